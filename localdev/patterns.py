"""Event patterns as Lambda filter criteria and EventBridge rules read them.

Supported: exact values (strings, numbers, booleans, null), `prefix`, `suffix`,
`equals-ignore-case`, `anything-but` (a value, a list, or `{"prefix": …}`), `exists`, and
`numeric` ranges; nested objects; a list in the event matches when any element matches.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

_MISSING = object()
_NUMERIC: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}  # fmt: skip


def matches(pattern: dict[str, Any], event: Any) -> bool:
    """True when `event` satisfies every field of `pattern`."""
    if not isinstance(event, dict):
        return False
    for key, rule in pattern.items():
        value = event.get(key, _MISSING)
        if isinstance(rule, dict):
            if value is _MISSING or not matches(rule, value):
                return False
        elif not _any_condition(rule, value):
            return False
    return True


def _any_condition(conditions: list[Any], value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    return any(_condition(c, v) for c in conditions for v in values) or any(
        isinstance(c, dict) and c.get("exists") is False and value is _MISSING for c in conditions
    )


def _condition(condition: Any, value: Any) -> bool:
    if not isinstance(condition, dict):
        return value is not _MISSING and value == condition
    [(kind, argument)] = condition.items()
    if kind == "exists":
        return (value is not _MISSING) is bool(argument)
    if value is _MISSING:
        return False
    test = _TESTS.get(kind)
    if test is None:
        raise ValueError(f"unsupported pattern condition {kind!r}")
    return test(argument, value)


def _anything_but(argument: Any, value: Any) -> bool:
    if isinstance(argument, dict):
        return not _condition(argument, value)
    excluded = argument if isinstance(argument, list) else [argument]
    return value not in excluded


def _numeric(argument: list[Any], value: Any) -> bool:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    pairs = zip(argument[::2], argument[1::2], strict=True)
    return all(_NUMERIC[op](value, bound) for op, bound in pairs)


_TESTS: dict[str, Callable[[Any, Any], bool]] = {
    "prefix": lambda prefix, value: isinstance(value, str) and value.startswith(prefix),
    "suffix": lambda suffix, value: isinstance(value, str) and value.endswith(suffix),
    "equals-ignore-case": lambda text, value: (
        isinstance(value, str) and value.lower() == str(text).lower()
    ),
    "anything-but": _anything_but,
    "numeric": _numeric,
}
