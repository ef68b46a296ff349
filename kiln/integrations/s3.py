"""Documents in S3: a component's or workflow's `uri`, a container recipe's
`dockerfileTemplateUri`, read once when the resource is created (the model: "Image Builder
reads the object once, when it creates the recipe, and stores its content").

Read from the S3 endpoint configured (`--s3-endpoint-url`, KILN_S3_ENDPOINT_URL: a
moto_server, MinIO, ...) or, in-process, from moto's mock_aws while it is active. Without
either, the refusal says how to configure one.
"""
from __future__ import annotations

import re

from botocore.exceptions import BotoCoreError, ClientError

from kiln.errors import ServiceUnavailableException, invalid_value
from kiln.integrations import notes

MAX_BYTES = 64 * 1024  # the component size quota the model's `uri` docs name ("64 KB by default")
_URI = re.compile(r"^s3://([^/]+)/(.+)$")


def not_configured(uri: str, param: str, inline: str, what: str = "document") -> Exception:
    return invalid_value(param, f"kiln cannot read '{uri}': no S3 is configured. Start kiln with --s3-endpoint-url "
                                f"URL (KILN_S3_ENDPOINT_URL; a moto_server or MinIO), or use it in-process under "
                                f"moto's mock_aws; or pass the {what} inline in '{inline}'.")


def read(uri: str, param: str, inline: str, what: str = "document") -> str:
    """The text of the S3 object `uri` names (s3://bucket/key), or the service's error."""
    frame = notes.current()
    if frame is None or not frame.integrations.has("s3"):
        raise not_configured(uri, param, inline, what)
    integrations = frame.integrations
    match = _URI.match(uri)
    if match is None:
        raise invalid_value(param, f"'{uri}' is not an S3 URL: use s3://bucket/key.")
    bucket, key = match.groups()
    try:
        answer = integrations.clients.get("s3", frame.region).get_object(Bucket=bucket, Key=key)
        body = answer["Body"].read(MAX_BYTES + 1)
    except ClientError as e:
        error = e.response.get("Error") or {}
        code = error.get("Code") or str(e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
        text = {"NoSuchBucket": f"The bucket '{bucket}' does not exist.",
                "NoSuchKey": f"The object '{key}' does not exist in the bucket '{bucket}'.",
                "AccessDenied": f"Access to '{uri}' is denied.",
                "403": f"Access to '{uri}' is denied.",
                "404": f"The object '{key}' does not exist in the bucket '{bucket}'."}.get(code)
        detail = text or f"{code}: {error.get('Message', '')}".rstrip(": ")
        raise invalid_value(param, f"kiln could not read '{uri}' from S3: {detail}") from None
    except BotoCoreError as e:
        raise ServiceUnavailableException(f"kiln could not reach S3 at {integrations.where('s3')} to read "
                                          f"'{uri}': {e}") from None
    if len(body) > MAX_BYTES:
        raise invalid_value(param, f"The object '{uri}' is larger than the {MAX_BYTES // 1024} KB quota.")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise invalid_value(param, f"The object '{uri}' is not UTF-8 text.") from None
