"""Infrastructure configurations: where and how build instances run."""
from __future__ import annotations

from kiln.errors import InvalidRequestException, invalid_value
from kiln.protocol.stored import fragment
from kiln.service import arns, list_entries, operation, pagination
from kiln.service.resource import already_exists, check_dry_run, depended_on, iso, not_found, parse_arn
from kiln.store import Row

TYPE = "infrastructure-configuration"
LABEL = "InfrastructureConfiguration"
RESERVED_RESOURCE_TAGS = ("CreatedBy", "Ec2ImageBuilderArn", "Name", "Tags")
# Request members that are the configuration itself (the rest is envelope).
_ENVELOPE = ("clientToken", "dryRun", "tags", "infrastructureConfigurationArn", "name")


def _settings(request: dict) -> dict:
    if request.get("subnetId") and not request.get("securityGroupIds"):
        raise InvalidRequestException(
            "The value supplied for parameter 'subnetId' is not valid. "
            "securityGroupIds must be specified when subnetId is specified."
        )
    for key in request.get("resourceTags") or {}:
        if key in RESERVED_RESOURCE_TAGS:
            raise invalid_value(
                "resourceTags",
                f"The resource tag key '{key}' is reserved. Reserved keys: {', '.join(RESERVED_RESOURCE_TAGS)}.",
            )
    settings = {k: v for k, v in request.items() if k not in _ENVELOPE}
    # Defaults to true and is always returned; terminateInstanceOnCompletion (also true by
    # default) appears only when the caller set it, as in AWS's responses.
    settings.setdefault("terminateInstanceOnFailure", True)
    return settings


@operation("CreateInfrastructureConfiguration")
def create_infrastructure_configuration(ctx, request):
    settings = _settings(request)
    key = arns.name_key(request["name"])
    arn = arns.make(ctx, TYPE, key)
    if ctx.tx.get(arn) is not None:
        raise already_exists(LABEL, arn)
    check_dry_run(request)
    doc = {"arn": arn, "name": request["name"], **settings, "dateCreated": iso(ctx.now), "tags": request.get("tags") or {}}
    ctx.tx.insert(Row(arn=arn, type=TYPE, name_key=key, name=request["name"], doc=doc, created=ctx.now))
    return {"clientToken": request["clientToken"], "infrastructureConfigurationArn": arn}


def _get(ctx, arn: str, param: str) -> Row:
    parse_arn(param, arn, (TYPE,))
    row = ctx.tx.get(arn, TYPE)
    if row is None:
        raise not_found(LABEL, arn)
    return row


@operation("GetInfrastructureConfiguration")
def get_infrastructure_configuration(ctx, request):
    row = _get(ctx, request["infrastructureConfigurationArn"], "infrastructureConfigurationArn")
    return {"infrastructureConfiguration": fragment(row.stored_json())}


@operation("UpdateInfrastructureConfiguration")
def update_infrastructure_configuration(ctx, request):
    arn = request["infrastructureConfigurationArn"]
    row = _get(ctx, arn, "infrastructureConfigurationArn")
    # Updates replace the whole configuration: what is omitted is removed or reset.
    doc = {"arn": arn, "name": row.doc["name"], **_settings(request), "dateCreated": row.doc["dateCreated"],
           "dateUpdated": iso(ctx.now), "tags": row.doc.get("tags", {})}
    row.doc = doc
    ctx.tx.save(row)
    # No clientToken, as in AWS's samples (see UpdateDistributionConfiguration).
    return {"infrastructureConfigurationArn": arn}


@operation("DeleteInfrastructureConfiguration")
def delete_infrastructure_configuration(ctx, request):
    arn = request["infrastructureConfigurationArn"]
    _get(ctx, arn, "infrastructureConfigurationArn")
    if ctx.tx.referrers(arn):
        raise depended_on(arn)
    ctx.tx.delete(arn)
    return {"infrastructureConfigurationArn": arn}


@operation("ListInfrastructureConfigurations")
def list_infrastructure_configurations(ctx, request):
    rows, token = pagination.list_kind(ctx, TYPE, "ListInfrastructureConfigurations", request, {"name": lambda d: d.get("name")})
    return {"infrastructureConfigurationSummaryList": list_entries.entries("InfrastructureConfigurationSummary", rows),
            "nextToken": token}
