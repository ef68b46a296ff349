"""Resource policies: Put/Get{Component,Image,ImageRecipe,ContainerRecipe}Policy.

A policy is an IAM-style JSON document that shares one of the caller's component
builds, image builds or recipe versions with other accounts (AWS validates it
through RAM). kiln keeps it verbatim as a row of its own in the owner's account
(type `resource-policy`, key `<resource arn>#policy`, document the Get output) and
indexes the resource in every account it names (kiln/service/sharing.py).
"""
from __future__ import annotations

import re

import orjson

from kiln.errors import ResourceNotFoundException, invalid_value
from kiln.service import operation, sharing, versioned
from kiln.service.resource import not_found, parse_arn
from kiln.store import Row

# What each kind's policy may allow, and how it is named (RAM's permissions for Image Builder).
_KINDS = {
    "component": ("Component", "componentArn", ("imagebuilder:GetComponent", "imagebuilder:ListComponents")),
    "image": ("Image", "imageArn", ("imagebuilder:GetImage", "imagebuilder:ListImages")),
    "image-recipe": ("ImageRecipe", "imageRecipeArn", ("imagebuilder:GetImageRecipe", "imagebuilder:ListImageRecipes")),
    "container-recipe": ("ContainerRecipe", "containerRecipeArn",
                         ("imagebuilder:GetContainerRecipe", "imagebuilder:ListContainerRecipes")),
}
_VERSIONS = ("2012-10-17", "2008-10-17")
_TOP = ("Version", "Id", "Statement")
_STATEMENT = ("Sid", "Effect", "Principal", "Action", "Resource")
_ACCOUNT = re.compile(r"^[0-9]{12}$")
_ROOT = re.compile(r"^arn:aws[a-z-]*:iam::([0-9]{12}):root$")
_ORGANIZATION = re.compile(r"^arn:aws[a-z-]*:organizations::[0-9]{12}:organization/o-[a-z0-9]{10,32}$")
_OU = re.compile(r"^arn:aws[a-z-]*:organizations::[0-9]{12}:ou/o-[a-z0-9]{10,32}/ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$")
PRINCIPALS = ("principals must be 12-digit AWS account IDs, arn:aws:iam::<account-id>:root, "
              "or AWS Organizations organization or organizational unit ARNs")


def _bad(detail: str):
    return invalid_value("policy", detail)


def _listed(value, what: str, where: str) -> list:
    """A policy element that is a string or a non-empty list of strings."""
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise _bad(f"{where} {what} must be a string or a non-empty list of strings.")
    return values


def grantees(text: str, kind: str, arn: str) -> set[str]:
    """The account ids a valid policy shares the resource with (organization and OU
    principals are valid, but kiln knows no organizations: they name no account).
    An invalid policy raises InvalidParameterValueException saying what is wrong."""
    label, _, allowed = _KINDS[kind]
    try:
        policy = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise _bad("The policy is not valid JSON.") from None
    if not isinstance(policy, dict):
        raise _bad("The policy must be a JSON object.")
    for key in policy:
        if key not in _TOP:
            raise _bad(f"The policy has an unsupported element '{key}'. Supported: {', '.join(_TOP)}.")
    version = policy.get("Version")
    if version is not None and version not in _VERSIONS:
        raise _bad(f"The policy Version '{version}' is not supported. Use 2012-10-17.")
    statements = policy.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise _bad("The policy must have a Statement: an object or a non-empty list of objects.")
    accounts: set[str] = set()
    wanted = {a.lower(): a for a in allowed}
    for i, statement in enumerate(statements):
        where = f"Statement[{i}]"
        if not isinstance(statement, dict):
            raise _bad(f"{where} must be a JSON object.")
        for key in statement:
            if key not in _STATEMENT:
                raise _bad(f"{where} has an unsupported element '{key}'. Supported: {', '.join(_STATEMENT)}.")
        effect = statement.get("Effect")
        if effect != "Allow":
            raise _bad(f"{where} has Effect {orjson.dumps(effect).decode()}; a policy that shares a resource can only Allow.")
        principal = statement.get("Principal")
        if principal is None:
            raise _bad(f"{where} has no Principal.")
        if not isinstance(principal, dict) or set(principal) != {"AWS"}:
            raise _bad(f"{where} has Principal {orjson.dumps(principal).decode()}; give {{\"AWS\": [...]}}: {PRINCIPALS}.")
        for p in _listed(principal["AWS"], "Principal AWS", where):
            root = _ROOT.match(p)
            if _ACCOUNT.match(p):
                accounts.add(p)
            elif root:
                accounts.add(root.group(1))
            elif not (_ORGANIZATION.match(p) or _OU.match(p)):
                raise _bad(f"{where} has principal '{p}': {PRINCIPALS}.")
        if "Action" not in statement:
            raise _bad(f"{where} has no Action.")
        for action in _listed(statement["Action"], "Action", where):
            if action.lower() not in wanted:
                raise _bad(f"{where} has action '{action}', which {label} policies cannot allow. "
                           f"Allowed actions: {', '.join(allowed)}.")
        if "Resource" in statement:
            for resource in _listed(statement["Resource"], "Resource", where):
                if resource != arn:
                    raise _bad(f"{where} names resource '{resource}'; the policy of '{arn}' can name only that resource.")
    return accounts


def _target(ctx, kind: str, arn: str) -> Row:
    """One of the caller's own builds (components, images) or recipe versions."""
    label, param, _ = _KINDS[kind]
    parsed = parse_arn(param, arn, (kind,))
    if parsed.owner != ctx.account:
        if not _ACCOUNT.match(parsed.owner):  # aws, third-party, aws-marketplace
            raise invalid_value(param, f"'{arn}' is not yours: a policy can be applied only to a resource you own.")
        raise not_found(label, arn)
    if parsed.build is None and "x" in parsed.version:
        raise invalid_value(param, f"'{arn}' has a wildcard version: a policy applies to one recipe version; name it without x.")
    return versioned.own(ctx, parsed, kind, label, arn)


def put(ctx, kind: str, arn: str, text: str) -> str:
    row = _target(ctx, kind, arn)
    after = grantees(text, kind, arn)
    stored = sharing.policy_row(ctx, row.arn)
    doc = {"policy": text}
    if stored is None:
        before: set[str] = set()
        ctx.tx.insert(Row(arn=sharing.policy_key(row.arn), type=sharing.POLICY_TYPE, name_key=row.name_key,
                          name=row.name, doc=doc, major=row.major, minor=row.minor, patch=row.patch,
                          build=row.build, created=ctx.now))
    else:
        before = grantees(stored.doc["policy"], kind, row.arn)
        stored.doc = doc
        ctx.tx.save(stored)
    sharing.regrant(ctx, row, before, after)
    return row.arn


def get(ctx, kind: str, arn: str, missing: str | None) -> str:
    """The policy as it was put; `missing` when none is (None: ResourceNotFoundException)."""
    row = _target(ctx, kind, arn)
    stored = sharing.policy_row(ctx, row.arn)
    if stored is not None:
        return stored.doc["policy"]
    if missing is None:
        raise ResourceNotFoundException(f"The following resource '{_KINDS[kind][0]}Policy' cannot be found: '{arn}'.")
    return missing


@operation("PutComponentPolicy")
def put_component_policy(ctx, request):
    return {"componentArn": put(ctx, "component", request["componentArn"], request["policy"])}


@operation("GetComponentPolicy")
def get_component_policy(ctx, request):
    # Unlike the other three Gets, the model does not say an empty object comes back when no policy is set.
    return {"policy": get(ctx, "component", request["componentArn"], None)}


@operation("PutImagePolicy")
def put_image_policy(ctx, request):
    return {"imageArn": put(ctx, "image", request["imageArn"], request["policy"])}


@operation("GetImagePolicy")
def get_image_policy(ctx, request):
    return {"policy": get(ctx, "image", request["imageArn"], "{}")}


@operation("PutImageRecipePolicy")
def put_image_recipe_policy(ctx, request):
    return {"imageRecipeArn": put(ctx, "image-recipe", request["imageRecipeArn"], request["policy"])}


@operation("GetImageRecipePolicy")
def get_image_recipe_policy(ctx, request):
    return {"policy": get(ctx, "image-recipe", request["imageRecipeArn"], "{}")}


@operation("PutContainerRecipePolicy")
def put_container_recipe_policy(ctx, request):
    return {"containerRecipeArn": put(ctx, "container-recipe", request["containerRecipeArn"], request["policy"])}


@operation("GetContainerRecipePolicy")
def get_container_recipe_policy(ctx, request):
    return {"policy": get(ctx, "container-recipe", request["containerRecipeArn"], "{}")}
