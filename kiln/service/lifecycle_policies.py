"""Lifecycle policies: rules that deprecate, disable and delete the images they select
(by recipe or by tag), with exclusions. This module keeps the resource; the runs of a
policy (lifecycle executions) are kiln/service/lifecycle_executions.py's.

The stored document is the LifecyclePolicy shape, complete: what a run needs is in it
(`resourceType`, `policyDetails`, `resourceSelection`, `status`). Its timestamps are
DateTimeTimestamp, epoch numbers with milliseconds (AWS's samples: 1788982478.409).
`dateUpdated` appears once the policy has been updated, `dateLastRun` once it has run:
a run sets `doc["dateLastRun"] = ctx.now` and saves the row.

Every rule below is one the service states: the model's member docs (M), the user guide
(UG image-lifecycle-rules), AWS's CDK construct (CDK aws-imagebuilder-alpha
lifecycle-policy.ts). docs/behaviour.md lists them with their sources and errors.
"""
from __future__ import annotations

from kiln.errors import InvalidParameterCombinationException, InvalidRequestException, invalid_value
from kiln.service import arns, lifecycle_runs, operation, pagination
from kiln.service.resource import already_exists, check_dry_run, unversioned
from kiln.store import Row

TYPE = "lifecycle-policy"
LABEL = "LifecyclePolicy"
ACTIONS = ("DEPRECATE", "DISABLE", "DELETE")


def _combination(param: str, detail: str) -> InvalidParameterCombinationException:
    return InvalidParameterCombinationException(f"The value supplied for parameter '{param}' is not valid. {detail}")


def _check_detail(resource_type: str, i: int, detail: dict) -> None:
    """One rule: its action, its filter and its exclusions, against the policy's resource type."""
    at = f"policyDetails[{i}]"
    action, flt = detail["action"], detail["filter"]
    kind = action["type"]
    # M CreateLifecyclePolicyRequest.resourceType; UG: DEPRECATE and DISABLE are "not available for container images".
    if resource_type == "CONTAINER_IMAGE" and kind != "DELETE":
        raise invalid_value(f"{at}.action.type", f"Lifecycle policies for CONTAINER_IMAGE resources support only "
                                                 f"DELETE rules, not {kind}.")
    include = action.get("includeResources") or {}
    if resource_type == "AMI_IMAGE" and include.get("containers"):  # M includeResources; CDK
        raise invalid_value(f"{at}.action.includeResources.containers",
                            "Containers can be included only in lifecycle policies for CONTAINER_IMAGE resources.")
    if resource_type == "CONTAINER_IMAGE":  # CDK: "you cannot include AMIs/snapshots in a container policy"
        for key in ("amis", "snapshots"):
            if include.get(key):
                raise invalid_value(f"{at}.action.includeResources.{key}",
                                    f"{key.capitalize()} can be included only in lifecycle policies for AMI_IMAGE resources.")
    if include.get("snapshots"):
        if kind != "DELETE":  # M includeResources: "DEPRECATE and DISABLE rules can include AMIs only"
            raise _combination(f"{at}.action.includeResources.snapshots",
                               f"Snapshots can be included only in DELETE rules; {kind} rules can include AMIs only.")
        if not include.get("amis"):  # M includeResources: "you can only include snapshots together with AMIs"
            raise _combination(f"{at}.action.includeResources.snapshots",
                               "Snapshots can be included only together with AMIs: set includeResources.amis to true.")

    if flt["type"] == "COUNT":
        if kind != "DELETE":  # M LifecyclePolicyDetailFilter.type: "only use the count filter with the DELETE action type"
            raise _combination(f"{at}.filter.type", f"A COUNT filter can be used only with the DELETE action, not {kind}.")
        if "unit" in flt:  # M unit: the unit of time of age-based rules
            raise _combination(f"{at}.filter.unit", "A unit can be given only with an AGE filter; a COUNT filter "
                                                    "counts images.")
        if "retainAtLeast" in flt:  # M retainAtLeast: "For age-based filters"
            raise _combination(f"{at}.filter.retainAtLeast", "retainAtLeast can be given only with an AGE filter; "
                                                             "the value of a COUNT filter is the number of images kept.")
    elif "unit" not in flt:  # M unit: "This is required for age-based rules."
        raise _combination(f"{at}.filter.unit", "An AGE filter requires a unit (DAYS, WEEKS, MONTHS or YEARS).")

    amis = (detail.get("exclusionRules") or {}).get("amis")
    if amis is not None and resource_type == "CONTAINER_IMAGE":  # UG AMI exclusion rules; CDK
        raise invalid_value(f"{at}.exclusionRules.amis",
                            "AMI exclusion rules can be given only in lifecycle policies for AMI_IMAGE resources.")


def _document(request: dict, arn: str, name: str) -> dict:
    """The policy a Create or Update request describes, checked as the service checks it
    (the ranges and lengths were checked against the model already)."""
    resource_type = request["resourceType"]
    details = request["policyDetails"]
    seen: dict[str, int] = {}
    for i, detail in enumerate(details):
        kind = detail["action"]["type"]
        if kind in seen:  # M policyDetails: "at most one rule per action type"
            raise invalid_value(f"policyDetails[{i}].action.type",
                                f"A lifecycle policy can contain at most one rule per action type: policyDetails[{seen[kind]}] "
                                f"is a {kind} rule already.")
        seen[kind] = i
        _check_detail(resource_type, i, detail)
    selection = request["resourceSelection"]
    # M LifecyclePolicyResourceSelection: "exactly one selection criteria: either recipes or a tag map, not both"
    if bool(selection.get("recipes")) == bool(selection.get("tagMap")):
        raise _combination("resourceSelection", "Specify exactly one of resourceSelection.recipes and "
                                                "resourceSelection.tagMap.")

    doc = {"arn": arn, "name": name}
    if request.get("description"):
        doc["description"] = request["description"]
    doc["status"] = request.get("status") or "ENABLED"  # M status: defaults to ENABLED (also on Update)
    doc["executionRole"] = request["executionRole"]
    doc["resourceType"] = resource_type
    doc["policyDetails"] = details
    doc["resourceSelection"] = selection
    return doc


def _stamp(now: float) -> float:
    """DateTimeTimestamp as AWS's samples show it: epoch seconds with milliseconds."""
    return int(now * 1000) / 1000


def get_row(ctx, arn: str, param: str = "lifecyclePolicyArn") -> Row:
    return unversioned(ctx, arn, param, TYPE, LABEL)


@operation("CreateLifecyclePolicy")
def create_lifecycle_policy(ctx, request):
    key = arns.name_key(request["name"])
    arn = arns.make(ctx, TYPE, key)
    if ctx.tx.get(arn) is not None:
        raise already_exists(LABEL, arn)
    doc = _document(request, arn, request["name"])
    check_dry_run(request)
    doc["dateCreated"] = _stamp(ctx.now)
    doc["tags"] = request.get("tags") or {}
    # The daily runs (kiln/service/lifecycle_runs.py) start a day after creation.
    ctx.tx.insert(Row(arn=arn, type=TYPE, name_key=key, name=request["name"], doc=doc, created=ctx.now,
                      next_due=lifecycle_runs.first_run(ctx.now)))
    return {"clientToken": request["clientToken"], "lifecyclePolicyArn": arn}


@operation("GetLifecyclePolicy")
def get_lifecycle_policy(ctx, request):
    return {"lifecyclePolicy": get_row(ctx, request["lifecyclePolicyArn"]).doc}


@operation("UpdateLifecyclePolicy")
def update_lifecycle_policy(ctx, request):
    """Replaces the whole policy: an omitted description is removed, an omitted status
    is ENABLED again. The name, dateCreated, dateLastRun and tags stay."""
    row = get_row(ctx, request["lifecyclePolicyArn"])
    old = row.doc
    if request["resourceType"] != old["resourceType"]:  # M UpdateLifecyclePolicyRequest.resourceType
        raise InvalidRequestException(
            f"The value supplied for parameter 'resourceType' is not valid. The resource type of a lifecycle policy "
            f"cannot change: '{row.arn}' is {old['resourceType']}, not {request['resourceType']}.")
    doc = _document(request, row.arn, old["name"])
    doc["dateCreated"] = old["dateCreated"]
    doc["dateUpdated"] = _stamp(ctx.now)
    if "dateLastRun" in old:
        doc["dateLastRun"] = old["dateLastRun"]
    doc["tags"] = old.get("tags") or {}
    row.doc = doc
    ctx.tx.save(row)
    return {"lifecyclePolicyArn": row.arn}  # the output shape has no clientToken


@operation("DeleteLifecyclePolicy")
def delete_lifecycle_policy(ctx, request):
    """M LifecyclePolicy.status: deleting a policy cancels any in-flight execution, so
    nothing blocks the delete (the executions keep their records)."""
    row = get_row(ctx, request["lifecyclePolicyArn"])
    ctx.tx.delete(row.arn)
    return {"lifecyclePolicyArn": row.arn}


_FILTERS = {name: (lambda d, n=name: d.get(n)) for name in ("name", "resourceType", "status")}


@operation("ListLifecyclePolicies")
def list_lifecycle_policies(ctx, request):
    rows, token = pagination.list_kind(ctx, TYPE, "ListLifecyclePolicies", request, _FILTERS)
    return {"lifecyclePolicySummaryList": [r.doc for r in rows], "nextToken": token}
