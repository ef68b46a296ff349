"""List filters: `filters: [{name, values}]`, each operation with its own allowed names.

Values within one filter are alternatives (OR); filters combine with AND. The
`name` filter also takes `prefix*` and `*contains*`.
"""
from __future__ import annotations

from typing import Callable

from kiln.errors import InvalidParameterCombinationException, InvalidParameterValueException, invalid_value


def _value_matches(pattern: str, actual, wildcard: bool) -> bool:
    if actual is None:
        return False
    if isinstance(actual, (list, tuple)):
        return any(_value_matches(pattern, a, wildcard) for a in actual)
    actual = str(actual)
    if wildcard and pattern.startswith("*") and pattern.endswith("*") and len(pattern) > 1:
        return pattern[1:-1] in actual
    if wildcard and pattern.endswith("*"):
        return actual.startswith(pattern[:-1])
    return actual == pattern


def compile_filters(filters: list | None, allowed: dict[str, Callable[[dict], object]]) -> Callable[[dict], bool]:
    """Check filter names now (so a bad one fails even on an empty list); return a predicate on documents."""
    if not filters:
        return lambda doc: True
    checks = []
    for i, f in enumerate(filters):
        name = f.get("name")
        values = f.get("values") or []
        if name is None:
            raise InvalidParameterValueException(
                f"The value supplied for parameter 'filters[{i}].name' is not valid. A filter needs a name."
            )
        if name not in allowed:
            raise invalid_value(
                f"filters[{i}].name",
                f"The filter name '{name}' is not supported. Supported filter names: {', '.join(sorted(allowed))}.",
            )
        if not values:
            raise InvalidParameterValueException(
                f"The value supplied for parameter 'filters[{i}].values' is not valid. A filter needs at least one value."
            )
        checks.append((allowed[name], values, name == "name"))

    def keep(doc: dict) -> bool:
        return all(any(_value_matches(v, get(doc), wc) for v in values) for get, values, wc in checks)

    return keep


def group_by(request: dict) -> str:
    """ListImages/ListComponents/ListWorkflows: one entry per name with `byName`,
    else one per version. `byName` cannot be combined with a `version` filter."""
    if not request.get("byName"):
        return "version"
    if any(f.get("name") == "version" for f in request.get("filters") or ()):
        raise InvalidParameterCombinationException("The parameters 'byName' and the 'version' filter cannot be used together.")
    return "name"


def exact_name(filters: list | None) -> str | None:
    """A single exact `name` value, which the store can look up by index."""
    for f in filters or ():
        values = f.get("values") or []
        if f.get("name") == "name" and len(values) == 1 and "*" not in values[0]:
            return values[0]
    return None
