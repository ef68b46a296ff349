"""Image Builder ARNs: building them from names, and taking them apart."""
from __future__ import annotations

import re
from dataclasses import dataclass

AWS_OWNER = "aws"

_ARN = re.compile(
    r"^arn:(aws[^:]*):imagebuilder:([^:]+):([^:]+):"
    r"(image|image-recipe|container-recipe|infrastructure-configuration|distribution-configuration|component"
    r"|image-pipeline|lifecycle-policy|workflow/(?:build|test|distribution))"
    r"/([a-z0-9-_]+)(?:/((?:[0-9]+|x)\.(?:[0-9]+|x)\.(?:[0-9]+|x)))?(?:/([0-9]+))?$"
)


def name_key(name: str) -> str:
    """The ARN name segment: lower case, spaces and underscores as hyphens.
    Names that differ only in those map to one ARN, so they are the same name."""
    return name.lower().replace(" ", "-").replace("_", "-")


def make(ctx, kind: str, key: str, version: str | None = None, build: int | None = None, owner: str | None = None) -> str:
    arn = f"arn:{ctx.partition}:imagebuilder:{ctx.region}:{owner or ctx.account}:{kind}/{key}"
    if version is not None:
        arn += f"/{version}"
    if build is not None:
        arn += f"/{build}"
    return arn


@dataclass(frozen=True)
class Arn:
    partition: str
    region: str
    owner: str
    kind: str            # "image", "component", "workflow/build", ...
    name: str            # the name segment
    version: str | None  # "1.0.0", "1.x.x" or None
    build: int | None

    @property
    def nodes(self) -> tuple[str, str, str] | None:
        return tuple(self.version.split(".")) if self.version else None

    @property
    def version_arn(self) -> str:
        return f"arn:{self.partition}:imagebuilder:{self.region}:{self.owner}:{self.kind}/{self.name}/{self.version}"


def parse(arn: str) -> Arn | None:
    m = _ARN.match(arn)
    if m is None:
        return None
    partition, region, owner, kind, name, version, build = m.groups()
    return Arn(partition, region, owner, kind, name, version, int(build) if build is not None else None)
