"""Query-string parsing and the `filter`, `sort`, `offset` and `limit` pipeline of paged lists."""

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from vbahv_emulator import schemas, timeutil
from vbahv_emulator.errors import bad_request

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1

_INT_PATTERN = re.compile(r"[+-]?\d+")


# --- Typed query parameters -------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """One declared query parameter: its type and, for integers, the allowed minimum."""

    kind: str  # "int", "bool", "str", "datetime", "json" or "enum"
    minimum: int | None = None
    choices: tuple[str, ...] = ()


PAGING = {"offset": Param("int", minimum=0), "limit": Param("int", minimum=-1)}
FILTER_SORT = {"filter": Param("json"), "sort": Param("json")}
PAGED = PAGING | FILTER_SORT


def parse_query(query: Any, spec: dict[str, Param]) -> dict[str, Any]:
    """Validate a request's query parameters against `spec` and convert their values.

    Unknown, repeated or badly typed parameters raise a 400. Names are matched case-sensitively.
    """
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for name in query:
        if name not in spec:
            errors.setdefault(name, []).append(
                f"The query parameter '{name}' is not supported by this endpoint."
                + (f" Supported: {', '.join(sorted(spec))}." if spec else "")
            )
            continue
        raw_values = query.getall(name)
        if len(raw_values) > 1:
            errors.setdefault(name, []).append(
                f"The query parameter '{name}' is given more than once."
            )
            continue
        try:
            values[name] = _convert(name, raw_values[0], spec[name])
        except ValueError as exc:
            errors.setdefault(name, []).append(str(exc))
    if errors:
        raise bad_request("The query string is invalid.", errors=errors)
    return values


def _convert(name: str, raw: str, param: Param) -> Any:
    if param.kind == "int":
        if not _INT_PATTERN.fullmatch(raw):
            raise ValueError(f"The value '{raw}' of '{name}' is not a valid integer.")
        value = int(raw)
        if not INT32_MIN <= value <= INT32_MAX:
            raise ValueError(f"The value '{raw}' of '{name}' is outside the 32-bit integer range.")
        if param.minimum is not None and value < param.minimum:
            raise ValueError(
                f"The value of '{name}' must be at least {param.minimum}, got {value}."
            )
        return value
    if param.kind == "bool":
        lowered = raw.lower()
        if lowered not in ("true", "false"):
            raise ValueError(
                f"The value '{raw}' of '{name}' is not a valid boolean (true or false)."
            )
        return lowered == "true"
    if param.kind == "datetime":
        try:
            return timeutil.parse_iso(raw)
        except ValueError:
            raise ValueError(
                f"The value '{raw}' of '{name}' is not a valid ISO 8601 date-time."
            ) from None
    if param.kind == "enum":
        if raw not in param.choices:
            raise ValueError(
                f"The value '{raw}' of '{name}' is not valid. Allowed: {', '.join(param.choices)}."
            )
        return raw
    if param.kind == "json":
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise ValueError(f"The value of '{name}' is not valid JSON: {exc}.") from None
    return raw


# --- Property resolution ----------------------------------------------------------------------


@dataclass(frozen=True)
class PropertyPath:
    """A dotted property resolved against a schema: the real field names and the leaf type."""

    names: tuple[str, ...]
    leaf_type: object
    is_list: bool


def resolve_property(schema_name: str, dotted: Any, field: str) -> PropertyPath:
    """Resolve a dotted property name case-insensitively. An unknown property is a 400."""
    if not isinstance(dotted, str) or not dotted:
        raise bad_request(f"The '{field}' property name must be a non-empty string.", field)
    fields = schemas.SCHEMAS[schema_name]
    names: list[str] = []
    is_list = False
    type_code: object = schema_name
    segments = dotted.split(".")
    for position, segment in enumerate(segments):
        if not isinstance(fields, dict):
            raise bad_request(f"Unknown property '{dotted}' for {schema_name}.", field)
        match = next((name for name in fields if name.lower() == segment.lower()), None)
        if match is None:
            raise bad_request(
                f"Unknown property '{dotted}' for {schema_name}. Known: {', '.join(fields)}.",
                field,
            )
        names.append(match)
        type_code = fields[match]
        if isinstance(type_code, list):
            is_list = True
            type_code = type_code[0]
        if position < len(segments) - 1:
            fields = schemas.SCHEMAS.get(type_code) if isinstance(type_code, str) else None
            if type_code == "any":
                # Free-form objects accept any nested name.
                names.extend(segments[position + 1 :])
                return PropertyPath(tuple(names), "any", is_list)
    return PropertyPath(tuple(names), type_code, is_list)


def extract(item: dict, path: PropertyPath) -> Any:
    """Read a property; a path through an array returns the list of the elements' values."""
    values: list[Any] = [item]
    through_list = False
    for name in path.names:
        next_values: list[Any] = []
        for value in values:
            child = value.get(name) if isinstance(value, dict) else None
            if isinstance(child, list) and (through_list or path.is_list):
                through_list = True
                next_values.extend(child)
            else:
                next_values.append(child)
        values = next_values
    if path.is_list or through_list:
        return [value for value in values if value is not None]
    return values[0]


# --- Collation and value coercion -------------------------------------------------------------

COLLATIONS = {"ordinal": "Ordinal", "ignorecase": "IgnoreCase", "lexicographic": "Lexicographic"}

_NUMBER_OR_TEXT = re.compile(r"(\d+)|(\D+)")


def _lexicographic_key(text: str) -> tuple:
    """Compare digit runs as numbers and other runs as ordinal text, so "vm-9" < "vm-10"."""
    parts = []
    for digits, other in _NUMBER_OR_TEXT.findall(text):
        parts.append((0, int(digits), "") if digits else (1, 0, other))
    return tuple(parts)


def parse_collation(raw: Any, field: str) -> str:
    if raw is None:
        return "Ordinal"
    if not isinstance(raw, str) or raw.lower() not in COLLATIONS:
        raise bad_request(
            f"Unknown collation {raw!r}. Allowed: Ordinal, IgnoreCase, Lexicographic.", field
        )
    return COLLATIONS[raw.lower()]


def comparison_key(value: Any, leaf_type: object, collation: str) -> Any:
    """Map a property value to something Python can compare, honouring the collation for text."""
    if value is None:
        return None
    if leaf_type == "datetime" and isinstance(value, str):
        return timeutil.parse_iso(value)
    if isinstance(value, str):
        if collation == "IgnoreCase":
            return value.casefold()
        if collation == "Lexicographic":
            return _lexicographic_key(value)
    return value


def coerce_value(value: Any, leaf_type: object, field: str) -> Any:
    """Check a filter value against the property type, converting text where .NET binding would."""
    if value is None:
        return None
    if leaf_type == "int":
        if isinstance(value, bool):
            raise bad_request(f"The value {value!r} is not a number.", field)
        if isinstance(value, (int, float)):
            return value
        if isinstance(value, str) and _INT_PATTERN.fullmatch(value):
            return int(value)
        raise bad_request(f"The value {value!r} is not a number.", field)
    if leaf_type == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise bad_request(f"The value {value!r} is not a boolean.", field)
    if leaf_type == "datetime":
        if not isinstance(value, str):
            raise bad_request(f"The value {value!r} is not an ISO 8601 date-time string.", field)
        try:
            timeutil.parse_iso(value)
        except ValueError:
            raise bad_request(f"The value {value!r} is not an ISO 8601 date-time.", field) from None
        return value
    if leaf_type == "str":
        if not isinstance(value, str):
            raise bad_request(f"The value {value!r} is not a string.", field)
        return value
    return value


# --- Filter -----------------------------------------------------------------------------------

OPERATIONS = {
    name.lower(): name
    for name in (
        "In",
        "Contains",
        "Subset",
        "Superset",
        "Equals",
        "NotEquals",
        "LessThan",
        "LessThanOrEqual",
        "GreaterThan",
        "GreaterThanOrEqual",
        "ExclusiveOr",
        "Or",
        "And",
        "Not",
    )
}
LOGICAL_OPERATIONS = {"ExclusiveOr", "Or", "And", "Not"}
_FILTER_KEYS = {"property", "operation", "collation", "value", "items"}

Predicate = Callable[[dict], bool]


def compile_filter(raw: Any, schema_name: str) -> Predicate:
    """Compile the `filter` parameter (one FilterExpression or an array, combined with And)."""
    if isinstance(raw, dict):
        expressions = [raw]
    elif isinstance(raw, list):
        expressions = raw
    else:
        raise bad_request(
            "The filter must be a FilterExpression object or an array of them.", "filter"
        )
    predicates = [_compile_expression(expr, schema_name, "filter") for expr in expressions]
    return lambda item: all(predicate(item) for predicate in predicates)


def _compile_expression(expr: Any, schema_name: str, field: str) -> Predicate:
    if not isinstance(expr, dict):
        raise bad_request(f"A FilterExpression must be a JSON object, got {expr!r}.", field)
    unknown = set(expr) - _FILTER_KEYS
    if unknown:
        raise bad_request(
            f"Unknown FilterExpression member(s): {', '.join(sorted(unknown))}.", field
        )
    raw_operation = expr.get("operation")
    if not isinstance(raw_operation, str) or raw_operation.lower() not in OPERATIONS:
        raise bad_request(
            f"Unknown filter operation {raw_operation!r}. Allowed: "
            f"{', '.join(OPERATIONS.values())}.",
            field,
        )
    operation = OPERATIONS[raw_operation.lower()]
    if operation in LOGICAL_OPERATIONS:
        return _compile_logical(operation, expr, schema_name, field)
    if expr.get("items") is not None:
        raise bad_request(
            f"'items' is only allowed with And, Or, Not and ExclusiveOr, not {operation}.", field
        )
    path = resolve_property(schema_name, expr.get("property"), field)
    collation = parse_collation(expr.get("collation"), field)
    return _compile_comparison(operation, path, collation, expr.get("value"), field)


def _compile_logical(operation: str, expr: dict, schema_name: str, field: str) -> Predicate:
    items = expr.get("items")
    if not isinstance(items, list) or not items:
        raise bad_request(f"The {operation} operation needs a non-empty 'items' array.", field)
    if expr.get("property") is not None or expr.get("value") is not None:
        raise bad_request(
            f"The {operation} operation takes 'items', not 'property' or 'value'.", field
        )
    predicates = [_compile_expression(item, schema_name, field) for item in items]
    if operation == "And":
        return lambda item: all(predicate(item) for predicate in predicates)
    if operation == "Or":
        return lambda item: any(predicate(item) for predicate in predicates)
    if operation == "Not":
        if len(predicates) != 1:
            raise bad_request("The Not operation takes exactly one item.", field)
        only = predicates[0]
        return lambda item: not only(item)
    # ExclusiveOr: true when exactly one item matches.
    return lambda item: sum(1 for predicate in predicates if predicate(item)) == 1


def _compile_comparison(
    operation: str, path: PropertyPath, collation: str, value: Any, field: str
) -> Predicate:
    leaf = path.leaf_type

    def key(raw: Any) -> Any:
        return comparison_key(raw, leaf, collation)

    if operation in ("In", "Subset", "Superset"):
        if not isinstance(value, list):
            raise bad_request(
                f"The {operation} operation needs an array value, got {value!r}.", field
            )
        filter_values = [key(coerce_value(element, leaf, field)) for element in value]
        if operation == "In":
            if path.is_list:
                return lambda item: any(key(v) in filter_values for v in extract(item, path))
            return lambda item: key(extract(item, path)) in filter_values
        if operation == "Subset":
            return lambda item: all(key(v) in filter_values for v in _as_list(extract(item, path)))
        return lambda item: all(
            w in [key(v) for v in _as_list(extract(item, path))] for w in filter_values
        )

    if operation == "Contains":
        if path.is_list:
            target = key(coerce_value(value, leaf, field))
            return lambda item: target in [key(v) for v in extract(item, path)]
        if leaf not in ("str", "any"):
            raise bad_request(
                f"The Contains operation needs a text or array property, not {leaf}.", field
            )
        if not isinstance(value, str):
            raise bad_request(f"The Contains operation needs a string value, got {value!r}.", field)
        needle = value.casefold() if collation == "IgnoreCase" else value

        def contains(item: dict) -> bool:
            text = extract(item, path)
            if not isinstance(text, str):
                return False
            haystack = text.casefold() if collation == "IgnoreCase" else text
            return needle in haystack

        return contains

    if operation in ("Equals", "NotEquals"):
        if path.is_list:
            if not isinstance(value, list):
                raise bad_request(f"{operation} on an array property needs an array value.", field)
            filter_list = [key(coerce_value(v, leaf, field)) for v in value]

            def equal(item):
                return [key(v) for v in extract(item, path)] == filter_list

        else:
            target = key(coerce_value(value, leaf, field))

            def equal(item):
                return key(extract(item, path)) == target

        if operation == "Equals":
            return equal
        return lambda item: not equal(item)

    # Ordering operations.
    if path.is_list:
        raise bad_request(f"The {operation} operation does not apply to array properties.", field)
    if value is None:
        raise bad_request(f"The {operation} operation needs a non-null value.", field)
    target = key(coerce_value(value, leaf, field))
    compare = {
        "LessThan": lambda a, b: a < b,
        "LessThanOrEqual": lambda a, b: a <= b,
        "GreaterThan": lambda a, b: a > b,
        "GreaterThanOrEqual": lambda a, b: a >= b,
    }[operation]

    def ordered(item: dict) -> bool:
        current = key(extract(item, path))
        if current is None:
            return False
        try:
            return compare(current, target)
        except TypeError:
            return False

    return ordered


def _as_list(value: Any) -> list:
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


# --- Sort -------------------------------------------------------------------------------------

DIRECTIONS = {"ascending": "Ascending", "descending": "Descending"}
_SORT_KEYS = {"property", "direction", "collation"}


def sort_items(items: list[dict], raw: Any, schema_name: str) -> list[dict]:
    """Sort by an array of SortExpression objects; the first expression is the primary key."""
    if not isinstance(raw, list):
        raise bad_request(
            "The sort parameter must be a JSON array of SortExpression objects.", "sort"
        )
    keys = []
    for expr in raw:
        if not isinstance(expr, dict):
            raise bad_request(f"A SortExpression must be a JSON object, got {expr!r}.", "sort")
        unknown = set(expr) - _SORT_KEYS
        if unknown:
            raise bad_request(
                f"Unknown SortExpression member(s): {', '.join(sorted(unknown))}.", "sort"
            )
        path = resolve_property(schema_name, expr.get("property"), "sort")
        if path.is_list:
            raise bad_request(f"Cannot sort by the array property '{expr['property']}'.", "sort")
        direction = expr.get("direction", "Ascending")
        if not isinstance(direction, str) or direction.lower() not in DIRECTIONS:
            raise bad_request(
                f"Unknown sort direction {direction!r}. Allowed: Ascending, Descending.", "sort"
            )
        collation = parse_collation(expr.get("collation"), "sort")
        keys.append((path, DIRECTIONS[direction.lower()] == "Descending", collation))
    ordered = list(items)
    # Python's sort is stable, so sorting by the last key first gives a multi-key sort.
    for path, descending, collation in reversed(keys):
        ordered.sort(
            key=lambda item, p=path, c=collation: _sort_key(
                comparison_key(extract(item, p), p.leaf_type, c)
            ),
            reverse=descending,
        )
    return ordered


def _sort_key(value: Any) -> tuple:
    # Nulls sort first in ascending order, as LINQ's OrderBy puts them.
    if value is None:
        return (0, 0, "")
    if isinstance(value, bool):
        return (1, int(value), "")
    if isinstance(value, (int, float)):
        return (1, value, "")
    if isinstance(value, tuple):
        return (2, 0, value)
    return (3, 0, str(value))


# --- Paging -----------------------------------------------------------------------------------


def page(
    items: Sequence[dict], query: dict[str, Any], schema_name: str, max_page_size: int
) -> dict:
    """Apply filter, then sort, then offset, then limit, and wrap the result in a page envelope.

    `limit` in the envelope is the limit actually applied: at most `max_page_size`, and `-1`
    requests as many items as that cap allows.
    """
    selected: Sequence[dict] = items
    if "filter" in query:
        predicate = compile_filter(query["filter"], schema_name)
        selected = [item for item in selected if predicate(item)]
    if "sort" in query:
        selected = sort_items(list(selected), query["sort"], schema_name)
    offset = query.get("offset", 0)
    requested = query.get("limit", 100)
    limit = max_page_size if requested == -1 else min(requested, max_page_size)
    return {
        "offset": offset,
        "limit": limit,
        "totalCount": len(selected),
        "results": list(selected[offset : offset + limit]),
    }
