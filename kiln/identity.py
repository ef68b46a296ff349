"""Who is calling: account from the access key id, region from the SigV4 scope.

kiln does not verify signatures (it runs offline with any credentials); it only
reads the Credential scope `AKID/date/region/service/aws4_request`.
"""
from __future__ import annotations

import re
from typing import NamedTuple

DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"
# The access key id is the account when it is 12 digits (group 1), else any key id.
_CREDENTIAL = re.compile(r"Credential=(?:([0-9]{12})|[^/,\s]+)/[^/]+/([^/]+)/")


# A region name of AWS's form (us-east-1, us-gov-west-1, eu-central-2, ap-southeast-7): it is
# minted into ARNs and keys every row, so nothing else (`..`, `*`, a tab, 40 characters) is taken.
REGION = re.compile(r"[a-z]{2}(?:-[a-z]+){1,3}-[0-9]{1,2}")


class Identity(NamedTuple):  # a tuple: made on every request, a frozen dataclass costs 5x more
    account: str
    region: str


def identify(authorization: str | None, default_account: str = DEFAULT_ACCOUNT, default_region: str = DEFAULT_REGION) -> Identity:
    if authorization:
        m = _CREDENTIAL.search(authorization)
        if m:
            account, region = m.groups()
            return Identity(account or default_account, region)
    return Identity(default_account, default_region)
