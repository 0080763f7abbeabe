"""The local runtime's reading of AWS event patterns (filter criteria, EventBridge rules)."""

from __future__ import annotations

from typing import Any

import pytest

from localdev.patterns import matches

EVENT = {
    "eventName": "MODIFY",
    "dynamodb": {"NewImage": {"entity": {"S": "reservation"}, "party_size": {"N": "4"}}},
    "detail": {"party_size": 4, "tags": ["vip", "late"], "note": None},
}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"eventName": ["INSERT", "MODIFY"]}, True),
        ({"eventName": ["REMOVE"]}, False),
        ({"dynamodb": {"NewImage": {"entity": {"S": ["reservation"]}}}}, True),
        ({"dynamodb": {"NewImage": {"entity": {"S": ["occupancy"]}}}}, False),
        ({"dynamodb": {"OldImage": {"entity": {"S": ["reservation"]}}}}, False),
        ({"eventName": [{"prefix": "MOD"}]}, True),
        ({"eventName": [{"suffix": "IFY"}]}, True),
        ({"eventName": [{"equals-ignore-case": "modify"}]}, True),
        ({"eventName": [{"anything-but": ["REMOVE"]}]}, True),
        ({"eventName": [{"anything-but": "MODIFY"}]}, False),
        ({"eventName": [{"anything-but": {"prefix": "MO"}}]}, False),
        ({"detail": {"party_size": [{"numeric": [">", 2, "<=", 4]}]}}, True),
        ({"detail": {"party_size": [{"numeric": [">", 4]}]}}, False),
        ({"detail": {"tags": ["vip"]}}, True),
        ({"detail": {"note": [None]}}, True),
        ({"detail": {"missing": [{"exists": False}]}}, True),
        ({"detail": {"party_size": [{"exists": True}]}}, True),
        ({"detail": {"missing": [{"exists": True}]}}, False),
        ({"detail": {"party_size": ["4"]}}, False),  # types are not coerced
    ],
)
def test_patterns(pattern: dict[str, Any], expected: bool) -> None:
    assert matches(pattern, EVENT) is expected
