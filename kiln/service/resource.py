"""What every resource family shares: timestamps, ownership checks and the real
service's wording for not-found, already-exists and dependency errors."""
from __future__ import annotations

from datetime import datetime, timezone

from kiln.errors import (
    DryRunOperationException,
    ResourceAlreadyExistsException,
    ResourceDependencyException,
    ResourceNotFoundException,
    invalid_value,
)
from kiln.service import arns
from kiln.service.versions import latest_version_references


def iso(epoch: float) -> str:
    """DateTime shape: ISO-8601 UTC with milliseconds, as the service writes it."""
    ms = int(epoch * 1000)  # truncate once, so seconds and milliseconds agree
    return datetime.fromtimestamp(ms // 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def not_found(type_label: str, arn: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"The following resource '{type_label}' cannot be found: '{arn}'.")


def already_exists(type_label: str, arn: str) -> ResourceAlreadyExistsException:
    return ResourceAlreadyExistsException(f"The following resource '{type_label}' already exists: '{arn}'.")


def depended_on(arn: str) -> ResourceDependencyException:
    # The real text, grammar included.
    return ResourceDependencyException(f"Resource dependency error: The resource ARN '{arn}' has other resources depended on it.")


def parse_arn(param: str, arn: str, kinds: tuple[str, ...]) -> arns.Arn:
    """An ARN the model's pattern accepted, of one of `kinds`."""
    parsed = arns.parse(arn)
    if parsed is None or parsed.kind not in kinds:
        raise invalid_value(param, f"'{arn}' is not a valid {' or '.join(kinds)} ARN.")
    return parsed


def unversioned(ctx, arn: str, param: str, kind: str, label: str):
    """One of the caller's resources without versions (a configuration, a pipeline, a
    policy) by its ARN, or the service's not-found error."""
    parse_arn(param, arn, (kind,))
    row = ctx.tx.get(arn, kind)
    if row is None:
        raise not_found(label, arn)
    return row


def visible(ctx, parsed: arns.Arn) -> bool:
    """Whether an ARN can name something this caller sees: its own account and
    region, or an AWS-managed resource in this region."""
    return parsed.region == ctx.region and parsed.owner in (ctx.account, arns.AWS_OWNER)


def check_dry_run(request: dict) -> None:
    """Create* with dryRun: valid input answers DryRunOperationException and creates nothing."""
    if request.get("dryRun"):
        raise DryRunOperationException("The request would have succeeded, but the dryRun parameter was set.")


def references(arn: str) -> dict:
    """latestVersionReferences of a version or build ARN."""
    parsed = arns.parse(arn)
    return latest_version_references(base_arn(arn), parsed.version)


def base_arn(full: str) -> str:
    """An ARN up to its name segment (drops /M.m.p and /build)."""
    parsed = arns.parse(full)
    return f"arn:{parsed.partition}:imagebuilder:{parsed.region}:{parsed.owner}:{parsed.kind}/{parsed.name}"
