"""GetMarketplaceResource: the document and artifacts of the sample AWS Marketplace and
third-party components (kiln/catalog/marketplace.yaml).

A build instance calls it for a subscribed Marketplace component, whose source GetComponent
hides (`obfuscate`): COMPONENT_DATA answers `data`, the component's YAML document;
COMPONENT_ARTIFACT answers `url`, a time-limited presigned S3 URL for one artifact the
document downloads, named by `resourceLocation` (the botocore model's member docs). Every
sample is treated as subscribed. docs/behaviour.md "AWS Marketplace and third-party resources".
"""
from __future__ import annotations

import datetime as _dt
import hashlib
from urllib.parse import quote

from kiln import catalog
from kiln.errors import ApiError, ForbiddenException, InvalidRequestException
from kiln.service import arns, operation, versioned

URL_LIFETIME_SECONDS = 3600
"""How long the presigned artifact URL says it is valid (X-Amz-Expires)."""


@operation("GetMarketplaceResource")
def get_marketplace_resource(ctx, request):
    arn = request["resourceArn"]
    parsed = arns.parse(arn)
    if parsed is None or parsed.kind != "component" or parsed.owner not in versioned.MARKETPLACE_SEGMENTS:
        raise InvalidRequestException(
            f"The resource '{arn}' is not an AWS Marketplace resource. GetMarketplaceResource accepts the ARN of "
            "an AWS Marketplace or third-party component (owner 'aws-marketplace' or 'third-party')."
        )
    try:
        row = versioned.resolve(ctx, parsed, "resourceArn",
                                status=None if parsed.build is not None else "ACTIVE") if parsed.version else None
    except ApiError:  # a misplaced wildcard (1.x.0) names nothing; this operation models no parameter error
        row = None
    if row is None:
        raise ForbiddenException(f"You are not entitled to the AWS Marketplace resource '{arn}'.")
    resource = catalog.marketplace_resources(ctx.region)[row.arn]
    if request["resourceType"] == "COMPONENT_DATA":
        # resourceLocation only names an artifact; with COMPONENT_DATA it has nothing to choose.
        return {"resourceArn": arn, "data": resource["data"]}
    location = request.get("resourceLocation")
    if location is None:
        raise InvalidRequestException("The resourceLocation parameter is required when resourceType is COMPONENT_ARTIFACT.")
    if location not in resource["artifacts"]:
        raise InvalidRequestException(f"The artifact '{location}' is not an artifact of the resource '{arn}'.")
    return {"resourceArn": arn, "url": _presigned_url(ctx, location)}


def _presigned_url(ctx, location: str) -> str:
    """An S3 presigned GET URL for `location` in the form S3 gives them (SigV4 query
    parameters). kiln has no S3: the signature is a digest, and the URL names the object
    rather than serving it."""
    bucket, _, key = location[len("s3://"):].partition("/")
    _, dns_suffix = catalog._partition(ctx.region)
    moment = _dt.datetime.fromtimestamp(ctx.now, _dt.timezone.utc)
    stamp = moment.strftime("%Y%m%dT%H%M%SZ")
    scope = f"KILNMARKETPLACE/{stamp[:8]}/{ctx.region}/s3/aws4_request"
    signature = hashlib.sha256(f"{ctx.account}|{location}|{stamp}".encode()).hexdigest()
    return (f"https://{bucket}.s3.{ctx.region}.{dns_suffix}/{quote(key)}"
            f"?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={quote(scope, safe='')}"
            f"&X-Amz-Date={stamp}&X-Amz-Expires={URL_LIFETIME_SECONDS}&X-Amz-SignedHeaders=host"
            f"&X-Amz-Signature={signature}")
