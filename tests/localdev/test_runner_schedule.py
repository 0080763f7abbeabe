"""The local runner's schedule source: a handler invoked on its rate, with a scheduled rule's
event, as EventBridge invokes an `@app.schedule` function."""

from __future__ import annotations

import io
from typing import Any

from chalice.app import Chalice, Rate, ScheduledEventConfig

from localdev.console import Console
from localdev.runner import ScheduledSource, rate_seconds


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_handler_runs_once_a_period_with_a_scheduled_event() -> None:
    calls: list[tuple[dict[str, Any], Any]] = []
    out = io.StringIO()
    ticks = Ticks()

    def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
        calls.append((event, context))
        return {"expired": len(calls) - 1}

    source = ScheduledSource("expire", handler, 60, Console(out), clock=ticks)
    assert source.poll() is False  # a new rule's first run is a period after it starts
    ticks.now += 59.9
    assert source.poll() is False and calls == []
    ticks.now += 0.1
    assert source.poll() is True
    assert source.poll() is False  # not again within the period
    ticks.now += 60
    assert source.poll() is True
    [(event, context), _] = calls
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
    assert event["resources"][0].endswith(":rule/local-expire") and event["detail"] == {}
    assert context.function_name == "expire"
    assert "expire" in out.getvalue()  # the second run did something: said so


def test_a_run_that_raises_is_reported_and_the_next_period_runs_again() -> None:
    out, ticks, runs = io.StringIO(), Ticks(), []

    def handler(event: dict[str, Any], context: Any) -> None:
        runs.append(event)
        raise RuntimeError("table unavailable")

    source = ScheduledSource("expire", handler, 60, Console(out), clock=ticks)
    ticks.now += 60
    assert source.poll() is True
    ticks.now += 60
    assert source.poll() is True
    assert len(runs) == 2 and "table unavailable" in out.getvalue()


def test_rates_in_seconds() -> None:
    assert rate_seconds(Rate(1, unit=Rate.MINUTES)) == 60
    assert rate_seconds(Rate(5, unit=Rate.MINUTES)) == 300
    assert rate_seconds("rate(2 hours)") == 7200


def test_the_app_registers_its_schedules_at_their_rates() -> None:
    import app

    schedules = {
        s.name: rate_seconds(s.schedule_expression)
        for s in app.app.event_sources
        if isinstance(s, ScheduledEventConfig)
    }
    assert schedules == {"expire_unanswered_requests": 60, "remove_old_guest_details": 3600}
    assert isinstance(app.app, Chalice)
