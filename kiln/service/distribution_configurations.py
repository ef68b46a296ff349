"""Distribution configurations: where finished images are copied, shared and exported."""
from __future__ import annotations

import re

from kiln.errors import InvalidParameterCombinationException, invalid_value
from kiln.protocol.stored import fragment
from kiln.service import arns, operation, pagination
from kiln.service.resource import already_exists, check_dry_run, depended_on, iso, not_found, parse_arn
from kiln.store import Row

TYPE = "distribution-configuration"
LABEL = "DistributionConfiguration"
TIMEOUT_MINUTES = 720  # on the object (the model requires it) but not settable
# The model's own region shape (workflow and lifecycle ARNs): also eusc-de-east-1, us-isob-east-1, ...
_REGION = re.compile(r"^[a-z]{2,}(?:-[a-z]+)+-[0-9]+$")
_BUILD_DATE = re.compile(r"\{\{\s*imagebuilder:buildDate\s*\}\}")
_OUTPUTS = (
    "amiDistributionConfiguration", "containerDistributionConfiguration", "licenseConfigurationArns",
    "launchTemplateConfigurations", "s3ExportConfiguration", "fastLaunchConfigurations", "ssmParameterConfigurations",
)


def check_distributions(distributions: list) -> None:
    seen: dict[str, int] = {}
    for i, d in enumerate(distributions):
        path = f"distributions[{i}]"
        region = d["region"]
        if not _REGION.match(region):
            raise invalid_value(f"{path}.region", f"'{region}' is not a valid AWS Region code.")
        if region in seen:
            raise InvalidParameterCombinationException(
                f"The value supplied for parameter 'distributions' is not valid. The Region '{region}' appears in "
                f"distributions[{seen[region]}] and {path}; a distribution configuration can have one entry per Region."
            )
        seen[region] = i
        if not any(d.get(k) for k in _OUTPUTS):
            raise invalid_value(path, "One or more outputs should be provided for each region in a distribution configuration.")
        ami = d.get("amiDistributionConfiguration") or {}
        if "name" in ami and not _BUILD_DATE.search(ami["name"]):
            raise invalid_value(
                f"{path}.amiDistributionConfiguration.name",
                "The EC2 AMI name must contain '{{ imagebuilder:buildDate }}' to ensure that the name will be unique.",
            )


def _doc(arn: str, name: str, request: dict, created: str, updated: str | None, tags: dict) -> dict:
    doc = {"arn": arn, "name": name}
    if "description" in request:
        doc["description"] = request["description"]
    doc["distributions"] = request["distributions"]
    doc["timeoutMinutes"] = TIMEOUT_MINUTES
    doc["dateCreated"] = created
    if updated:
        doc["dateUpdated"] = updated
    doc["tags"] = tags
    return doc


@operation("CreateDistributionConfiguration")
def create_distribution_configuration(ctx, request):
    check_distributions(request["distributions"])
    key = arns.name_key(request["name"])
    arn = arns.make(ctx, TYPE, key)
    if ctx.tx.get(arn) is not None:
        raise already_exists(LABEL, arn)
    check_dry_run(request)
    doc = _doc(arn, request["name"], request, iso(ctx.now), None, request.get("tags") or {})
    ctx.tx.insert(Row(arn=arn, type=TYPE, name_key=key, name=request["name"], doc=doc, created=ctx.now))
    return {"clientToken": request["clientToken"], "distributionConfigurationArn": arn}


def get_row(ctx, arn: str, param: str = "distributionConfigurationArn") -> Row:
    parse_arn(param, arn, (TYPE,))
    row = ctx.tx.get(arn, TYPE)
    if row is None:
        raise not_found(LABEL, arn)
    return row


@operation("GetDistributionConfiguration")
def get_distribution_configuration(ctx, request):
    row = get_row(ctx, request["distributionConfigurationArn"])
    return {"distributionConfiguration": fragment(row.stored_json())}


@operation("UpdateDistributionConfiguration")
def update_distribution_configuration(ctx, request):
    arn = request["distributionConfigurationArn"]
    row = get_row(ctx, arn)
    check_distributions(request["distributions"])
    row.doc = _doc(arn, row.doc["name"], request, row.doc["dateCreated"], iso(ctx.now), row.doc.get("tags", {}))
    ctx.tx.save(row)
    # No clientToken in the answer, though the model has one: AWS's UpdateDistributionConfiguration
    # samples (the 2020 AWS CLI example, the 2026 API Reference example) both leave it out.
    return {"distributionConfigurationArn": arn}


@operation("DeleteDistributionConfiguration")
def delete_distribution_configuration(ctx, request):
    arn = request["distributionConfigurationArn"]
    get_row(ctx, arn)
    if ctx.tx.referrers(arn):
        raise depended_on(arn)
    ctx.tx.delete(arn)
    return {"distributionConfigurationArn": arn}


@operation("ListDistributionConfigurations")
def list_distribution_configurations(ctx, request):
    rows, token = pagination.list_kind(ctx, TYPE, "ListDistributionConfigurations", request, {"name": lambda d: d.get("name")})
    summaries = [{**r.doc, "regions": [d["region"] for d in r.doc["distributions"]]} for r in rows]
    return {"distributionConfigurationSummaryList": summaries, "nextToken": token}
