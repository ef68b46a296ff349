"""Sharing by resource policy: what another account sees of a resource whose policy
names it (docs/behaviour.md, Resource policies and sharing).

A policy is a row of its owner's account (kiln/service/resource_policies.py). Each
account a policy names gets an index row in its own account, type
`shared-resource/<kind>`, keyed by the shared resource's ARN, so a Shared list or
a Get reads that account's index and then the owner's row (through `tx.of(owner)`,
the same Region) instead of scanning every account.
"""
from __future__ import annotations

from kiln.service import pagination
from kiln.service.pagination import Sorted
from kiln.service.resource import depended_on
from kiln.service.versions import matches
from kiln.store import Row
from kiln.store.repository import sort_key

POLICY_TYPE = "resource-policy"
INDEX = "shared-resource"
_MAX_SHARED = 10_000  # index rows read at most per kind and account


def index_type(kind: str) -> str:
    return f"{INDEX}/{kind}"


def policy_key(arn: str) -> str:
    """The key of a resource's policy row in its owner's account."""
    return f"{arn}#policy"


def owner_of(arn: str) -> str:
    return arn.split(":")[4]


def policy_row(ctx, arn: str) -> Row | None:
    """The caller's policy row of one of its own resources, or None."""
    return ctx.tx.get(policy_key(arn), POLICY_TYPE)


def is_shared(ctx, arn: str) -> bool:
    """Whether one of the caller's resources has a policy (so is shared)."""
    return policy_row(ctx, arn) is not None


def regrant(ctx, resource: Row, before: set[str], after: set[str]) -> None:
    """Index the resource in the accounts `after` names, and drop it from those only
    `before` named (a Put replaces the whole policy). The owner itself is not indexed."""
    kind = index_type(resource.type)
    for account in sorted(before - after):
        if account != ctx.account:
            ctx.tx.of(account).delete(resource.arn)
    for account in sorted(after - before):
        if account == ctx.account:
            continue
        tx = ctx.tx.of(account)
        if tx.get(resource.arn, kind) is not None:
            continue
        tx.insert(Row(
            arn=resource.arn, type=kind, name_key=resource.name_key, name=resource.name,
            doc={"resourceArn": resource.arn, "owner": ctx.account},
            major=resource.major, minor=resource.minor, patch=resource.patch, build=resource.build,
            created=ctx.now,
            sort_key=f"{sort_key(resource.name_key, resource.major, resource.minor, resource.patch, resource.build)} {ctx.account}",
        ))


def shared_rows(ctx, kind: str) -> list[Row]:
    """The resources of one kind shared with the caller, as their owners store them
    (resources gone since are skipped)."""
    rows = []
    for entry in ctx.tx.page(index_type(kind), None, _MAX_SHARED):
        row = ctx.tx.of(owner_of(entry.arn)).get(entry.arn, kind)
        if row is not None:
            rows.append(row)
    return rows


def resolve(ctx, parsed, nodes, status: str | None) -> Row | None:
    """What a build, version or wildcard ARN of another account names for the caller:
    only builds (or recipe versions) shared with it; None when nothing is."""
    if parsed.build is not None:
        arn = f"{parsed.version_arn}/{parsed.build}"
        if ctx.tx.get(arn, index_type(parsed.kind)) is None:
            return None
        return ctx.tx.of(parsed.owner).get(arn, parsed.kind)
    found = [row for row in shared_rows(ctx, parsed.kind)
             if owner_of(row.arn) == parsed.owner and row.name_key == parsed.name and matches(nodes, row.version)
             and (status is None or row.status == status)]
    return max(found, key=lambda r: (r.major, r.minor, r.patch, r.build), default=None)


def shared_name_key(name_key: str, owner: str) -> str:
    """The name key a shared resource has in `table`: its own, with its owner."""
    return f"{name_key} {owner}"


def table(ctx, kind: str) -> Sorted:
    """The resources of one kind shared with the caller, in list order, served like a
    table. Each owner's resources form their own names (the name key carries the
    owner), so versions of two owners with one name never merge into one entry."""
    rows = []
    for row in shared_rows(ctx, kind):
        key = shared_name_key(row.name_key, owner_of(row.arn))
        rows.append(Row(
            arn=row.arn, type=row.type, name_key=key, name=row.name, doc=row.doc, major=row.major,
            minor=row.minor, patch=row.patch, build=row.build, status=row.status, created=row.created,
            sort_key=sort_key(key, row.major, row.minor, row.patch, row.build),
        ))
    return Sorted(rows)


def list_page(ctx, kind: str, operation: str, request: dict, allowed: dict) -> tuple[list, str | None]:
    """A page of the resources of one unversioned-build kind (recipes) shared with the
    caller, with the request's filters (`allowed`: filter name -> getter on the document)."""
    from kiln.service.filters import compile_filters

    keep = compile_filters(request.get("filters"), allowed)
    shared = table(ctx, kind)
    return pagination.page(ctx.secret, operation + "#Shared", request, shared.fetch, lambda r: keep(r.doc))


def refuse_delete(ctx, row: Row) -> None:
    """An owner cannot delete a resource it shares: the service's dependency error."""
    if is_shared(ctx, row.arn):
        raise depended_on(row.arn)
