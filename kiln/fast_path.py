"""GetImage of one build, answered straight from its stored document.

GetImage by build ARN is the call clients repeat most (the `image_available`
waiter, polling loops), and its answer is the stored document with the four
version references beside it. This path serves exactly that case with a few
µs of work: no routing, no generic parse or validation, no Context or Row.

It answers only when the general path (kiln.core) would answer 200 with the
same bytes: one `imageBuildVersionArn` query parameter holding a canonical build
ARN of the caller's own account and Region, no build transition due, and the
build present. Everything else (errors, version or wildcard ARNs, AWS-owned
ARNs, odd encodings, and any exception on the way) returns None and goes the
general way, so errors keep one source. tests/test_fast_path.py checks both
paths give the same body.
"""
from __future__ import annotations

import re

from kiln.engine.clock import Clock
from kiln.identity import identify

PATH = "/GetImage"
RAW_PATH = PATH.encode()  # as the ASGI scope gives it
_PREFIX = "imageBuildVersionArn="
# A canonical build ARN (no leading zeros: the stored form) of a caller's image.
# Every string it matches also matches the model's pattern for the member.
_BUILD_ARN = re.compile(
    r"(arn:aws[a-z-]*:imagebuilder:([a-z0-9-]+):([0-9]{12}):image/[a-z0-9-_]+)/"
    r"((0|[1-9][0-9]{0,9})\.(0|[1-9][0-9]{0,9})\.(?:0|[1-9][0-9]{0,9}))/[1-9][0-9]{0,9}"
)


class GetImageFastPath:
    def __init__(self, kiln):
        self.kiln = kiln

    def body(self, query: str, authorization: str | None, request_id: str) -> bytes | None:
        """The GetImage response body, or None when the general path must answer."""
        try:
            return self._answer(query, authorization, request_id)
        except Exception:  # e.g. a store error: the general path retries it, or answers with the service's error
            return None

    def _answer(self, query: str, authorization: str | None, request_id: str) -> bytes | None:
        if not query.startswith(_PREFIX) or "&" in query:
            return None
        arn = query[len(_PREFIX):]
        if "%" in arn:
            # botocore percent-encodes ':' and '/'; anything else encoded goes the general way.
            arn = arn.replace("%3A", ":").replace("%2F", "/")
            if "%" in arn:
                return None
        m = _BUILD_ARN.fullmatch(arn)
        if m is None:
            return None
        base, region, owner, version, major, minor = m.groups()
        kiln = self.kiln
        who = identify(authorization, kiln.default_account)
        if who.region != region or who.account != owner:
            return None
        store = kiln.store
        if store.dialect == "sqlite":
            if store.has_due(kiln.clock.now()):
                return None
            doc = store.read_doc(owner, region, arn, "image")
        else:  # a networked store: one round trip, not three
            doc, clock_state, earliest_due = store.read_doc_with_time(owner, region, arn, "image")
            if earliest_due is not None and earliest_due <= Clock.at(clock_state):
                return None
        if doc is None:
            return None
        # The general path's bytes: the handler's members in order, then requestId. The references
        # are kiln.service.versions.latest_version_references written out (ARN characters need no
        # JSON escaping), which saves building and dumping a dict; tests/test_fast_path.py compares.
        return b'{"image":' + doc + (
            f',"latestVersionReferences":{{"latestVersionArn":"{base}/x.x.x",'
            f'"latestMajorVersionArn":"{base}/{major}.x.x","latestMinorVersionArn":"{base}/{major}.{minor}.x",'
            f'"latestPatchVersionArn":"{base}/{version}"}},"requestId":"{request_id}"}}'
        ).encode()
