"""`handler:NAME=rate` faults: an invocation crashes after handling part of its batch."""

from __future__ import annotations

import random
from typing import Any

import pytest

from localdev.faults import FaultInjector, HandlerCrashed, format_faults, parse_faults


def recording() -> tuple[list[list[Any]], Any]:
    seen: list[list[Any]] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.append(list(event.get("Records", [event])))
        return {"batchItemFailures": []}

    return seen, handler


def test_the_spec_names_the_handler() -> None:
    faults = parse_faults("handler:notify_staff=0.1,ses:SendEmail=0.2")
    assert faults[("handler", "notify_staff")] == 0.1
    assert format_faults(faults) == "handler:notify_staff=0.1,ses:SendEmail=0.2"


def test_a_crash_handles_a_prefix_of_the_batch_then_fails_the_invocation() -> None:
    injector = FaultInjector({("handler", "notify_staff"): 1.0}, rng=random.Random(7))
    seen, handler = recording()
    crashing = injector.crashing("notify_staff", handler)
    handled_counts = []
    for _ in range(40):
        before = len(seen)
        with pytest.raises(HandlerCrashed, match=r"notify_staff crashed \(injected\) after"):
            crashing({"Records": list(range(5))}, None)
        calls = seen[before:]
        handled = calls[0] if calls else []  # k = 0: crashed before the handler ran
        assert len(calls) <= 1 and handled == list(range(len(handled)))  # always a prefix
        handled_counts.append(len(handled))
    assert set(handled_counts) == {0, 1, 2, 3, 4, 5}  # before, during and after the work
    assert injector.injected[("handler", "notify_staff")] == 40


def test_an_event_without_records_crashes_before_or_after_its_work() -> None:
    injector = FaultInjector({("handler", "notify_guest"): 1.0}, rng=random.Random(3))
    seen, handler = recording()
    crashing = injector.crashing("notify_guest", handler)
    for _ in range(20):
        with pytest.raises(HandlerCrashed):
            crashing({"detail-type": "ReservationAccepted"}, None)
    assert 0 < len(seen) < 20


def test_other_handlers_and_a_zero_rate_run_untouched() -> None:
    injector = FaultInjector({("handler", "notify_staff"): 1.0})
    seen, handler = recording()
    assert injector.crashing("notify_guest", handler)({"Records": [1, 2]}, None) == {
        "batchItemFailures": []
    }
    injector.set_faults({("handler", "notify_guest"): 0.0})
    injector.crashing("notify_guest", handler)({"Records": [3]}, None)
    assert seen == [[1, 2], [3]]
