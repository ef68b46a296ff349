"""TagResource, UntagResource, ListTagsForResource on any resource kiln stores.

Tags live in the resource's own document (`tags`), which is where every Get
reads them from.
"""
from __future__ import annotations

from kiln.errors import InvalidParameterException, ResourceNotFoundException
from kiln.service import arns, operation

MAX_TAGS = 50


def _row(ctx, arn: str):
    parsed = arns.parse(arn)
    if parsed is None:
        raise InvalidParameterException(f"The value supplied for parameter 'resourceArn' is not valid. '{arn}' is not an Image Builder resource ARN.")
    row = ctx.tx.get(arn) if parsed.owner == ctx.account and parsed.region == ctx.region else None
    if row is None:
        raise ResourceNotFoundException(f"The resource '{arn}' cannot be found.")
    return row


@operation("ListTagsForResource")
def list_tags_for_resource(ctx, request):
    return {"tags": _row(ctx, request["resourceArn"]).doc.get("tags") or {}}


@operation("TagResource")
def tag_resource(ctx, request):
    row = _row(ctx, request["resourceArn"])
    tags = {**(row.doc.get("tags") or {}), **request["tags"]}
    if len(tags) > MAX_TAGS:
        raise InvalidParameterException(
            f"The value supplied for parameter 'tags' is not valid. A resource can have at most {MAX_TAGS} tags; "
            f"this request would leave it with {len(tags)}."
        )
    row.doc["tags"] = tags
    ctx.tx.save(row)
    return {}


@operation("UntagResource")
def untag_resource(ctx, request):
    row = _row(ctx, request["resourceArn"])
    tags = dict(row.doc.get("tags") or {})
    for key in request["tagKeys"]:
        tags.pop(key, None)
    row.doc["tags"] = tags
    ctx.tx.save(row)
    return {}
