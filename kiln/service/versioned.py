"""Versioned resources (images, components, workflows): resolving build, version
and wildcard ARNs against the caller's own rows and the AWS-managed catalog."""
from __future__ import annotations

from functools import lru_cache
from operator import attrgetter

import orjson

from kiln import catalog
from kiln.service import arns, pagination, sharing
from kiln.service.resource import already_exists, depended_on, not_found, parse_arn
from kiln.service.pagination import Sorted
from kiln.service.versions import matches, wildcard
from kiln.store import Row
from kiln.store.repository import name_end, sort_key, version_of_key

_CATALOG = {"image": catalog.managed_images, "component": catalog.managed_components, "workflow": catalog.managed_workflows}


def catalog_kind(kind: str) -> str:
    return "workflow" if kind.startswith("workflow/") else kind


MARKETPLACE_SEGMENTS = frozenset(catalog.MARKETPLACE_OWNERS.values())
"""The ARN owner segments of AWS Marketplace and third-party resources."""
_OWNER_OF_SEGMENT = {segment: owner for owner, segment in catalog.MARKETPLACE_OWNERS.items()}


@lru_cache(maxsize=64)
def managed(kind: str, region: str) -> Sorted:
    """The AWS-managed resources of one kind (e.g. "component", "workflow/build"),
    as rows in list order, served like a table."""
    return _table(kind, _CATALOG[catalog_kind(kind)](region))


@lru_cache(maxsize=64)
def marketplace(owner: str, kind: str, region: str) -> Sorted:
    """The sample AWS Marketplace or third-party resources (`owner` "AWSMarketplace" or
    "ThirdParty") of one kind, as rows in list order: only components exist."""
    docs = catalog.marketplace_components(region) if kind == "component" else []
    return _table(kind, [doc for doc in docs if doc["owner"] == owner])


def _table(kind: str, docs) -> Sorted:
    # Each row carries its document's text too, as a stored row does: list pages then
    # remember its entry (kiln/service/list_entries.py) instead of filtering it each time.
    rows = []
    for doc in docs:
        parsed = arns.parse(doc["arn"])
        if parsed.kind != kind:
            continue
        major, minor, patch = (int(n) for n in parsed.version.split("."))
        build = parsed.build
        rows.append(Row(
            arn=doc["arn"], type=kind, name_key=parsed.name, name=doc["name"], doc=doc,
            doc_text=orjson.dumps(doc).decode(), major=major, minor=minor, patch=patch, build=build,
            status=(doc.get("state") or {}).get("status", "ACTIVE"),
            sort_key=sort_key(parsed.name, major, minor, patch, build),
        ))
    return Sorted(rows)


def managed_table(ctx, kind: str) -> Sorted:
    """The AWS-managed resources of one kind in the caller's region: the catalog, plus
    the versions published since through /_kiln/catalog/publish (rows of the store's
    `aws` account, kiln/service/catalog_releases.py)."""
    # A CreateImage resolves six AWS-owned ARNs of four kinds: the published rows of
    # every kind are read once per request (one round trip on PostgreSQL, not six).
    memo = ctx.extra.get("managed_tables")
    if memo is None:
        memo = ctx.extra["managed_tables"] = {}
        for row in ctx.tx.of(arns.AWS_OWNER).rows_of_scope(10_000):
            memo.setdefault(("published", row.type), []).append(row)
    if kind not in memo:
        table = managed(kind, ctx.region)
        published = memo.get(("published", kind))
        memo[kind] = Sorted(table.rows + published) if published else table
    return memo[kind]


# Kinds whose versions have no builds: one row a version, under the version's ARN.
_ONE_ROW_A_VERSION = frozenset({"image-recipe", "container-recipe"})


def resolve(ctx, parsed: arns.Arn, param: str, status: str | None = None) -> Row | None:
    """The row an ARN names: a build ARN names exactly one build (any state);
    version and wildcard ARNs name the newest matching build in `status`."""
    if parsed.region != ctx.region or parsed.version is None:
        return None
    nodes = wildcard(parsed.version, param)
    if parsed.build is not None and None in nodes:
        return None
    if parsed.owner == arns.AWS_OWNER or parsed.owner in MARKETPLACE_SEGMENTS:
        table = (managed_table(ctx, parsed.kind) if parsed.owner == arns.AWS_OWNER
                 else marketplace(_OWNER_OF_SEGMENT[parsed.owner], parsed.kind, ctx.region))
        found = [row for row in table.rows
                 if row.name_key == parsed.name and matches(nodes, row.version)
                 and (row.build == parsed.build if parsed.build is not None else status is None or row.status == status)]
        return max(found, key=_newness, default=None)
    if parsed.owner != ctx.account:
        # Another account's: only what its policy shares with the caller (kiln/service/sharing.py).
        return sharing.resolve(ctx, parsed, nodes, status)
    if parsed.build is not None:
        return exact(ctx, parsed, parsed.kind)
    if parsed.kind in _ONE_ROW_A_VERSION and status is None and None not in nodes:
        # A recipe's row is its version: ask for it by ARN, the lookup a write request made
        # ahead with its first statement (Tx.prefetch); else as spelled otherwise (1.0.0 ~ 01.0.0).
        row = ctx.tx.get(parsed.version_arn, parsed.kind)
        if row is not None:
            return row
    return ctx.tx.latest(parsed.kind, parsed.name, *nodes, status=status)


def named(ctx, arn: str, param: str, kinds: tuple, label: str) -> Row:
    """What a build, version or wildcard ARN names for the caller (x nodes: the newest
    match), or the service's not-found error."""
    row = resolve(ctx, parse_arn(param, arn, kinds), param)
    if row is None:
        raise not_found(label, arn)
    return row


def own(ctx, parsed: arns.Arn, kind: str, label: str, arn: str) -> Row:
    """One of the caller's own builds (or recipe versions), named exactly (no wildcards)."""
    named = parsed.owner == ctx.account and parsed.region == ctx.region and "x" not in parsed.version
    row = exact(ctx, parsed, kind) if named else None
    if row is None:
        raise not_found(label, arn)
    return row


def delete_own(ctx, parsed: arns.Arn, kind: str, label: str, arn: str) -> str:
    """Delete one of the caller's own builds (or recipe versions); refused while
    another resource depends on it. Returns the stored ARN."""
    row = own(ctx, parsed, kind, label, arn)
    if ctx.tx.referrers(row.arn):
        raise depended_on(row.arn)
    ctx.tx.delete(row.arn)
    return row.arn


def exact(ctx, parsed: arns.Arn, kind: str) -> Row | None:
    """The row of a build or version ARN without wildcards. The version is kept as
    spelled at creation (`2019.12.03`); a spelling without leading zeros also finds
    it (stores written before kiln kept the spelling hold that form)."""
    arn = parsed.version_arn if parsed.build is None else f"{parsed.version_arn}/{parsed.build}"
    row = ctx.tx.get(arn, kind)
    if row is not None:
        return row
    normal = canonical(parsed)
    return ctx.tx.get(normal, kind) if normal != arn else None


def canonical(parsed: arns.Arn) -> str:
    """A build or version ARN with leading zeros dropped from its version nodes."""
    version = ".".join(str(int(n)) for n in parsed.version.split("."))
    arn = f"arn:{parsed.partition}:imagebuilder:{parsed.region}:{parsed.owner}:{parsed.kind}/{parsed.name}/{version}"
    return arn if parsed.build is None else f"{arn}/{parsed.build}"


def spelling(row: Row | None, text: str) -> str:
    """The version text a new build or version gets: that of an existing version with
    the same numbers (so `1.0.01` adds to `1.0.1`), else the text as the caller wrote it."""
    return arns.parse(row.arn).version if row is not None else text


def new_build(ctx, kind: str, label: str, name: str, nodes: tuple[int, int, int], text: str,
              content_hash: str) -> tuple[str, int]:
    """The ARN and number of a new build of name/version. Same content as the newest
    build of that version is refused; different content makes the next build."""
    key = arns.name_key(name)
    latest = ctx.tx.latest(kind, key, *nodes)
    version = spelling(latest, text)
    if latest is not None and latest.content_hash == content_hash:
        raise already_exists(label, latest.arn)
    build = ctx.tx.next_number(f"{kind}/{key}/{version}")
    return arns.make(ctx, kind, key, version, build), build


def _newness(row: Row) -> tuple[int, int, int, int]:
    return (row.major, row.minor, row.patch, row.build)


def list_rows(ctx, kind: str, operation: str, request: dict, keep, owner: str | None, group: str,
              name_key: str | None = None, newest_first: bool = False):
    """A page of a versioned kind in list order: by name, versions ascending, as AWS's
    List* responses show (`newest_first`: backwards, as its *BuildVersions lists are).
    One entry per build ("build"), per version ("version": its newest build) or per
    name ("name": its newest version)."""
    if owner in (None, "Self"):
        fetched: list[tuple[list[Row], bool]] = []  # each batch the page read, and whether it was the last

        def fetch(after, n):
            batch = ctx.tx.page(kind, after, n, name_key=name_key, descending=newest_first)
            fetched.append((batch, len(batch) < n))
            return batch

        def newest_of(rows: list[Row]) -> list[Row]:
            # The page read its rows in key order: a group whose rows it read to the end (a
            # later key, or the end of the data, came after them) has its newest row in hand.
            # Usually every group (one build per version): no further statement.
            known = {} if newest_first else _last_rows_read(fetched, group_of)
            missing = [r for r in rows if group_of(r) not in known]
            if missing:  # one statement for the rest, not one per entry
                # A group's range: from its first possible key to where the next page would start.
                ranges = [(group_of(r) if group == "version" else r.name_key + " ", key_of(r)) for r in missing]
                for row in ctx.tx.last_in_ranges(kind, ranges):
                    known[group_of(row)] = row
            return [known[g] for g in map(group_of, rows) if g in known]
    elif owner in ("Amazon", "Shared") or owner in catalog.MARKETPLACE_OWNERS:
        table = (managed_table(ctx, kind) if owner == "Amazon" else sharing.table(ctx, kind) if owner == "Shared"
                 else marketplace(owner, kind, ctx.region))
        fetch = lambda after, n: table.fetch(after, n, descending=newest_first)  # noqa: E731

        def newest_of(rows: list[Row]) -> list[Row]:
            by_name: dict[str, list[Row]] = {}
            for r in table.rows:
                by_name.setdefault(r.name_key, []).append(r)
            return [max((r for r in by_name[row.name_key] if group == "name" or r.version == row.version),
                        key=_newness) for row in rows]
    else:
        return [], None
    seen: set = set()

    # A version's rows share their sort key but for the build's digits: that part names the
    # group, and it + "~" is where the next version starts, with no formatting per row.
    # After a version (or name) is listed, the next page starts past all its builds (key_of).
    # One function of each per grouping: a page calls them about four times a row.
    if group == "version":
        def group_of(row: Row):
            return version_of_key(row.sort_key)

        def key_of(row: Row) -> str:
            return version_of_key(row.sort_key) + "~"
    elif group == "name":
        group_of = attrgetter("name_key")

        def key_of(row: Row) -> str:
            return name_end(row.name_key)
    else:
        def group_of(row: Row):
            return None

        key_of = attrgetter("sort_key")

    def take(row: Row) -> bool:
        g = group_of(row)
        if g is not None and g in seen:
            return False
        if not keep(row):
            return False
        if g is not None:
            seen.add(g)
        return True

    rows, token = pagination.page(ctx.secret, operation, request, fetch, take, key_of, descending=newest_first)
    # A group's first row is its oldest; its entry is its newest build (version) or version (name).
    if group in ("version", "name") and rows:
        rows = newest_of(rows)
    return rows, token


def _last_rows_read(fetched: list[tuple[list[Row], bool]], group_of) -> dict:
    """The last row read of each group, where one batch read the group to its end: a batch
    is a run of consecutive keys, so a group's row followed in the same batch by another
    group's row (or ending a short batch: the end of the data) is the group's last row.
    (Between batches the page skips the rest of a listed group: no conclusion across them.)"""
    known = {}
    for batch, last in fetched:
        groups = [group_of(row) for row in batch]
        for row, g, following in zip(batch, groups, groups[1:]):
            if following != g:
                known[g] = row
        if last and batch:
            known[groups[-1]] = batch[-1]
    return known


def version_doc(row: Row) -> dict:
    """A build document seen at version level: version ARN, version M.m.p."""
    doc = dict(row.doc)
    doc["arn"] = row.arn.rsplit("/", 1)[0]
    doc["version"] = doc["arn"].rsplit("/", 1)[1]
    return doc
