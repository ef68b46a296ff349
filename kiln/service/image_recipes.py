"""Image recipes: a parent image plus components, versioned M.m.p (no build number)."""
from __future__ import annotations

import re

from kiln.errors import (
    InvalidParameterCombinationException, InvalidParameterValueException, InvalidVersionNumberException, invalid_value,
)
from kiln.integrations import ec2
from kiln.protocol.stored import fragment
from kiln.service import arns, components, list_entries, operation, pagination, sharing, versioned
from kiln.service.resource import already_exists, check_dry_run, iso, not_found, parse_arn, references
from kiln.service.versions import MAX_NODE, wildcard
from kiln.store import Row

TYPE = "image-recipe"
LABEL = "ImageRecipe"
_AMI_ID = re.compile(r"^ami-[0-9a-f]{8}(?:[0-9a-f]{9})?$")


class Parent:
    """What a recipe's parentImage turns out to be."""

    def __init__(self, platform: str, os_version: str | None, image: Row | None = None):
        self.platform = platform
        self.os_version = os_version
        self.image = image            # the Image Builder image, when the parent is one


def resolve_parent(ctx, parent: str, param: str = "parentImage") -> Parent:
    """parentImage in its forms: an Image Builder image ARN (build, version or
    wildcard; resolved to the newest AVAILABLE build), an AMI id, an `ssm:`
    parameter, or an AWS Marketplace product id."""
    if parent.startswith("arn:"):
        parsed = arns.parse(parent)
        if parsed is None or parsed.kind != "image" or parsed.version is None:
            raise invalid_value(param, f"'{parent}' is not a valid image ARN, AMI ID, SSM parameter or AWS Marketplace product ID.")
        row = versioned.resolve(ctx, parsed, param, status=None if parsed.build is not None else "AVAILABLE")
        if row is None or row.status != "AVAILABLE":
            raise not_found("Image", parent)
        return Parent(row.doc.get("platform", "Linux"), row.doc.get("osVersion"), row)
    if _AMI_ID.match(parent) or parent.startswith("ssm:") or re.fullmatch(r"prod-[a-z0-9]+|[a-z0-9]{25}", parent):
        return Parent("Linux", None)
    raise invalid_value(param, f"'{parent}' is not a valid image ARN, AMI ID, SSM parameter or AWS Marketplace product ID.")


def check_components(ctx, configs: list, platform: str | None) -> list[Row]:
    """Each component resolves, appears once, suits the platform, and gets exactly
    the parameters it declares (every one without a default)."""
    rows: list[Row] = []
    seen: dict[str, int] = {}
    for i, config in enumerate(configs):
        param = f"components[{i}].componentArn"
        row = components.resolve(ctx, config["componentArn"], param)
        if row.status in ("DEPRECATED", "DISABLED"):
            raise invalid_value(param, f"The component '{row.arn}' is {row.status} and cannot be added to a recipe.")
        if row.name_key in seen:
            raise invalid_value(
                "components",
                f"The component '{row.name_key}' appears in components[{seen[row.name_key]}] and components[{i}]; "
                "a recipe can use each component once.",
            )
        seen[row.name_key] = i
        if platform and row.doc.get("platform") != platform:
            raise invalid_value(
                param, f"The component '{row.arn}' is for {row.doc.get('platform')}, but the recipe's parent image is {platform}."
            )
        declared = {p["name"]: p for p in row.doc.get("parameters") or ()}
        given = [p["name"] for p in config.get("parameters") or ()]
        unknown = [n for n in given if n not in declared]
        if unknown:
            raise InvalidParameterCombinationException(
                f"The value supplied for parameter 'components[{i}].parameters' is not valid. "
                f"The following parameters are not defined in the provided component: {', '.join(unknown)}"
            )
        duplicated = sorted({n for n in given if given.count(n) > 1})
        if duplicated:
            raise InvalidParameterCombinationException(
                f"The value supplied for parameter 'components[{i}].parameters' is not valid. "
                f"The following parameters are given more than once: {', '.join(duplicated)}"
            )
        missing = [n for n, p in declared.items() if "defaultValue" not in p and n not in given]
        if missing:
            raise InvalidParameterCombinationException(
                f"The value supplied for parameter 'components[{i}].parameters' is not valid. "
                f"The following parameters have no default value and must be provided: {', '.join(missing)}"
            )
        rows.append(row)
    return rows


def choose_version(ctx, kind: str, key: str, text: str, param: str = "semanticVersion") -> tuple[int, int, int]:
    """An exact version, or an auto-version: `1.0.x` -> the next patch after the
    newest 1.0.*, `1.x.x` -> the next minor, `x.x.x` -> the next major; a first
    version fills the x nodes with 0 (docs/behaviour.md). A number after the x
    (`1.x.0`, as the Terraform provider's auto-versioning test writes it) is kept: the
    next minor with patch 0."""
    parts = text.split(".")
    if "x" in parts[:-1] and any(p != "x" for p in parts[parts.index("x"):]):
        first_x = parts.index("x")
        fixed = wildcard(".".join(parts[:first_x] + ["x"] * (3 - first_x)), param)  # checks the nodes before it
        given = [None if p == "x" else int(p) for p in parts]
        if any(n is not None and n > MAX_NODE for n in given):
            raise InvalidVersionNumberException(f"Your version number is out of bounds: '{text}'.")
        latest = ctx.tx.latest(kind, key, *fixed)
        chosen = [0 if n is None else n for n in given]
        if latest is not None:
            chosen[first_x] = latest.version[first_x] + 1
        return tuple(chosen)  # type: ignore[return-value]
    nodes = wildcard(text, param)
    if None not in nodes:
        return nodes  # type: ignore[return-value]
    first_x = nodes.index(None)
    latest = ctx.tx.latest(kind, key, *nodes)
    if latest is None:
        return tuple(0 if n is None else n for n in nodes)  # type: ignore[return-value]
    chosen = list(latest.version)
    chosen[first_x] += 1
    for i in range(first_x + 1, 3):
        chosen[i] = 0
    if chosen[first_x] > MAX_NODE:
        raise InvalidParameterValueException(f"The value supplied for parameter '{param}' is not valid. No version is left after {latest.arn}.")
    return tuple(chosen)  # type: ignore[return-value]


_ENVELOPE = ("clientToken", "dryRun", "tags", "name", "semanticVersion")


@operation("CreateImageRecipe")
def create_image_recipe(ctx, request):
    key = arns.name_key(request["name"])
    text = request["semanticVersion"]
    nodes = choose_version(ctx, TYPE, key, text)
    existing = ctx.tx.latest(TYPE, key, *nodes)
    if existing is not None:  # the same numbers, however spelled
        raise already_exists(LABEL, existing.arn)
    # Kept as written (`2019.12.03`), as the service's responses show; an auto-version is made of numbers.
    version = text if "x" not in text else ".".join(map(str, nodes))
    arn = arns.make(ctx, TYPE, key, version)
    parent = resolve_parent(ctx, request["parentImage"])
    found = ec2.parent_platform(request["parentImage"])  # an AMI or ssm: parent looked up, when EC2/SSM are there
    if found is not None:
        parent = Parent(found, parent.os_version)
    used = check_components(ctx, request.get("components") or [], parent.platform)
    check_dry_run(request)
    # No `type`: the model says it "isn't currently returned in responses".
    doc = {"arn": arn, "name": request["name"]}
    if "description" in request:
        doc["description"] = request["description"]
    doc.update(platform=parent.platform, owner=ctx.account, version=version)
    # Stored as submitted (wildcards kept); the image built from it records what they resolved to.
    doc["components"] = request.get("components") or []
    doc["parentImage"] = request["parentImage"]
    for k in ("blockDeviceMappings",):
        if k in request:
            doc[k] = request[k]
    doc["dateCreated"] = iso(ctx.now)
    doc["tags"] = request.get("tags") or {}
    # workingDirectory only when given, though builds use /tmp (C:/ on Windows) without one:
    # the Terraform provider reads it back into an optional, replace-on-change attribute,
    # so a value filled in here would replace every recipe on every plan.
    for k in ("workingDirectory", "additionalInstanceConfiguration", "amiTags"):
        if k in request:
            doc[k] = request[k]
    ctx.tx.insert(Row(arn=arn, type=TYPE, name_key=key, name=request["name"], doc=doc,
                      major=nodes[0], minor=nodes[1], patch=nodes[2], created=ctx.now))
    ctx.tx.add_references(arn, [r.arn for r in used if r.doc.get("owner") == ctx.account])
    return {
        "clientToken": request["clientToken"],
        "imageRecipeArn": arn,
        "latestVersionReferences": references(arn),
    }


def resolve(ctx, arn: str, param: str = "imageRecipeArn") -> Row:
    """A recipe from its ARN; x nodes pick the newest matching version."""
    return versioned.named(ctx, arn, param, (TYPE,), LABEL)


@operation("GetImageRecipe")
def get_image_recipe(ctx, request):
    row = resolve(ctx, request["imageRecipeArn"])
    return {"imageRecipe": fragment(row.stored_json()), "latestVersionReferences": references(row.arn)}


@operation("DeleteImageRecipe")
def delete_image_recipe(ctx, request):
    arn = request["imageRecipeArn"]
    parsed = parse_arn("imageRecipeArn", arn, (TYPE,))
    sharing.refuse_delete(ctx, versioned.own(ctx, parsed, TYPE, LABEL, arn))
    return {"imageRecipeArn": versioned.delete_own(ctx, parsed, TYPE, LABEL, arn)}


@operation("ListImageRecipes")
def list_image_recipes(ctx, request):
    owner = request.get("owner")
    allowed = {"name": lambda d: d.get("name"), "parentImage": lambda d: d.get("parentImage"),
               "platform": lambda d: d.get("platform")}
    if owner == "Shared":
        rows, token = sharing.list_page(ctx, TYPE, "ListImageRecipes", request, allowed)
        return {"imageRecipeSummaryList": [r.doc for r in rows], "nextToken": token}
    rows, token = pagination.list_kind(ctx, TYPE, "ListImageRecipes", request, allowed)
    if owner not in (None, "Self"):
        return {"imageRecipeSummaryList": [], "nextToken": None}  # no recipes are sold to kiln accounts
    return {"imageRecipeSummaryList": list_entries.entries("ImageRecipeSummary", rows), "nextToken": token}
