"""Container recipes: a parent container image, components and a Dockerfile template,
versioned M.m.p like image recipes (docs/behaviour.md, Container recipes)."""
from __future__ import annotations

import re

from kiln.errors import InvalidParameterCombinationException, InvalidParameterValueException, invalid_value
from kiln.integrations import s3
from kiln.service import arns, operation, pagination, sharing, versioned
from kiln.service.image_recipes import _AMI_ID, check_components, choose_version, resolve_parent
from kiln.service.resource import already_exists, check_dry_run, iso, parse_arn, references
from kiln.store import Row

TYPE = "container-recipe"
LABEL = "ContainerRecipe"

# Docker's image reference grammar (distribution/reference): [host[:port]/]path[:tag][@digest].
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_HOST = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)"
_REGISTRY_URI = re.compile(rf"^{_HOST}?{_COMPONENT}(?:/{_COMPONENT})*(?::[\w][\w.-]{{0,127}})?(?:@[a-z0-9]+:[a-fA-F0-9]{{32,}})?$")
# Amazon ECR repository names: the name only, namespaces allowed, no registry host.
_ECR_NAME = re.compile(r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$")
_ECR_HOST = re.compile(r"\.dkr\.ecr\.|amazonaws\.com")  # a registry host in front of the name
_S3_URI = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+$")


def _placeholder(name: str) -> re.Pattern:
    return re.compile(r"\{\{\{\s*imagebuilder:" + name + r"\s*\}\}\}")


_PARENT_VAR, _ENVIRONMENTS_VAR = _placeholder("parentImage"), _placeholder("environments")


def read_template(request: dict) -> str:
    """Exactly one of dockerfileTemplateData and dockerfileTemplateUri; kiln reads only the first."""
    data, uri = request.get("dockerfileTemplateData"), request.get("dockerfileTemplateUri")
    if (data is None) == (uri is None):
        # The user guide's "Common errors" table (create-container-recipes).
        raise InvalidParameterCombinationException("You must specify either dockerfileTemplateData or a dockerfileTemplateUri")
    if uri is not None:
        if not _S3_URI.match(uri):
            raise InvalidParameterValueException("Invalid S3 URI")
        # Read once, now, as components' `uri` (kiln/integrations/s3.py).
        return s3.read(uri, "dockerfileTemplateUri", "dockerfileTemplateData", "template")
    return data


def check_template(template: str, has_components: bool) -> None:
    """The user guide's rules: `parentImage` is required, `environments` is required when the
    recipe has components, `components` is optional."""
    if not _PARENT_VAR.search(template):
        raise invalid_value("dockerfileTemplateData",
                            "The Dockerfile template must contain the '{{{ imagebuilder:parentImage }}}' variable.")
    if has_components and not _ENVIRONMENTS_VAR.search(template):
        raise invalid_value("dockerfileTemplateData",
                            "The Dockerfile template must contain the '{{{ imagebuilder:environments }}}' variable "
                            "when the recipe has components.")


def container_parent(ctx, request: dict) -> tuple[str, str | None]:
    """The recipe's platform from its parentImage (an Image Builder container image ARN, or
    a registry URI) and platformOverride; and the platform components are checked against
    (None when kiln cannot know it: a registry image without platformOverride)."""
    parent, override = request["parentImage"], request.get("platformOverride")
    if override == "macOS":
        raise InvalidParameterValueException("Container recipes don't currently support the macOS platform")
    if parent.startswith("arn:"):
        if override is not None:
            raise InvalidParameterValueException(
                "You cannot specify a platform override when using an Image Builder Image as your parent")
        found = resolve_parent(ctx, parent)
        kind = found.image.doc.get("type", "AMI")
        if kind != "DOCKER":
            raise invalid_value("parentImage", f"'{parent}' is an {kind} image; a container recipe needs a container (DOCKER) image.")
        return found.platform, found.platform
    if not _REGISTRY_URI.match(parent):
        raise invalid_value("parentImage", f"'{parent}' is not a valid image ARN or container image URI.")
    if override == "Windows" and "imageOsVersionOverride" not in request:
        raise InvalidParameterValueException(
            "You must specify an image OsVersion override when using ECR Repositories as your parent image for Windows Platform")
    return override or "Linux", override


def check_instance_configuration(config: dict | None) -> None:
    image = (config or {}).get("image")
    if image is not None and not (_AMI_ID.match(image) or image.startswith("ssm:")):
        raise invalid_value("instanceConfiguration.image", f"'{image}' is not a valid AMI ID or SSM parameter.")


def check_target_repository(target: dict) -> None:
    name = target["repositoryName"]
    if not (2 <= len(name) <= 256 and _ECR_NAME.match(name)) or _ECR_HOST.search(name):
        raise invalid_value("targetRepository.repositoryName",
                            f"'{name}' is not an Amazon ECR repository name (the name only, without the registry host).")


@operation("CreateContainerRecipe")
def create_container_recipe(ctx, request):
    key = arns.name_key(request["name"])
    text = request["semanticVersion"]
    nodes = choose_version(ctx, TYPE, key, text)
    existing = ctx.tx.latest(TYPE, key, *nodes)
    if existing is not None:
        raise already_exists(LABEL, existing.arn)
    version = text if "x" not in text else ".".join(map(str, nodes))
    arn = arns.make(ctx, TYPE, key, version)
    template = read_template(request)
    platform, check_platform = container_parent(ctx, request)
    configs = request.get("components") or []
    used = check_components(ctx, configs, check_platform)
    check_template(template, bool(configs))
    check_instance_configuration(request.get("instanceConfiguration"))
    check_target_repository(request["targetRepository"])
    check_dry_run(request)
    # ContainerRecipe's members in the model's order; platformOverride shows as `platform`.
    doc = {"arn": arn, "containerType": request["containerType"], "name": request["name"]}
    if "description" in request:
        doc["description"] = request["description"]
    doc.update(platform=platform, owner=ctx.account, version=version)
    if configs:
        doc["components"] = configs  # as submitted, wildcards kept
    if "instanceConfiguration" in request:
        doc["instanceConfiguration"] = request["instanceConfiguration"]
    doc["dockerfileTemplateData"] = template
    if "kmsKeyId" in request:
        doc["kmsKeyId"] = request["kmsKeyId"]
    doc["encrypted"] = True  # the model: always true, the template is always encrypted at rest
    doc["parentImage"] = request["parentImage"]
    doc["dateCreated"] = iso(ctx.now)
    doc["tags"] = request.get("tags") or {}
    if "workingDirectory" in request:
        doc["workingDirectory"] = request["workingDirectory"]
    doc["targetRepository"] = request["targetRepository"]
    # Not a ContainerRecipe member (the serializer leaves it out of every answer), kept for
    # the build, whose image osVersion it gives when the parent is a registry image.
    if "imageOsVersionOverride" in request:
        doc["imageOsVersionOverride"] = request["imageOsVersionOverride"]
    ctx.tx.insert(Row(arn=arn, type=TYPE, name_key=key, name=request["name"], doc=doc,
                      major=nodes[0], minor=nodes[1], patch=nodes[2], created=ctx.now))
    ctx.tx.add_references(arn, [r.arn for r in used if r.doc.get("owner") == ctx.account])
    return {"clientToken": request["clientToken"], "containerRecipeArn": arn, "latestVersionReferences": references(arn)}


def resolve(ctx, arn: str, param: str = "containerRecipeArn") -> Row:
    """A container recipe from its ARN; x nodes pick the newest matching version."""
    return versioned.named(ctx, arn, param, (TYPE,), LABEL)


@operation("GetContainerRecipe")
def get_container_recipe(ctx, request):
    row = resolve(ctx, request["containerRecipeArn"])
    return {"containerRecipe": row.doc, "latestVersionReferences": references(row.arn)}


@operation("DeleteContainerRecipe")
def delete_container_recipe(ctx, request):
    arn = request["containerRecipeArn"]
    parsed = parse_arn("containerRecipeArn", arn, (TYPE,))
    sharing.refuse_delete(ctx, versioned.own(ctx, parsed, TYPE, LABEL, arn))
    return {"containerRecipeArn": versioned.delete_own(ctx, parsed, TYPE, LABEL, arn)}


def summary(doc: dict) -> dict:
    """ContainerRecipeSummary: the recipe's members, and instanceImage from its instance configuration."""
    image = (doc.get("instanceConfiguration") or {}).get("image")
    return dict(doc, instanceImage=image) if image is not None else doc


@operation("ListContainerRecipes")
def list_container_recipes(ctx, request):
    owner = request.get("owner")
    if owner not in (None, "Self", "Shared", "Amazon"):
        raise invalid_value("owner", f"'{owner}' is not a supported owner for container recipes. Supported: Self, Shared, Amazon.")
    allowed = {"containerType": lambda d: d.get("containerType"), "name": lambda d: d.get("name"),
               "parentImage": lambda d: d.get("parentImage"), "platform": lambda d: d.get("platform")}
    if owner == "Shared":
        rows, token = sharing.list_page(ctx, TYPE, "ListContainerRecipes", request, allowed)
        return {"containerRecipeSummaryList": [summary(r.doc) for r in rows], "nextToken": token}
    rows, token = pagination.list_kind(ctx, TYPE, "ListContainerRecipes", request, allowed)
    if owner not in (None, "Self"):
        return {"containerRecipeSummaryList": [], "nextToken": None}  # AWS owns no container recipes
    return {"containerRecipeSummaryList": [summary(r.doc) for r in rows], "nextToken": token}
