"""app.py's decorators and chalicelib/wiring/event_sources.py say the same thing."""

from __future__ import annotations

from chalice.app import (
    CloudWatchEventConfig,
    DynamoDBEventConfig,
    Rate,
    ScheduledEventConfig,
    SQSEventConfig,
)

from chalicelib.adapters.stream import is_reservation_change
from chalicelib.wiring.event_sources import (
    DAILY_SUMMARY,
    EXPIRY_HANDLER,
    EXPIRY_SCHEDULE_MINUTES,
    GUEST_NOTIFICATIONS,
    RESERVATION_CHANGES_PATTERN,
    RESERVATION_STREAM,
    RETENTION_HANDLER,
    RETENTION_SCHEDULE_HOURS,
    STAFF_NOTIFICATIONS,
)
from infra.package import load_resources
from localdev.patterns import matches


def test_every_handler_is_declared_with_the_settings_of_its_mapping() -> None:
    from app import app

    sources = {s.name: s for s in app.event_sources}
    assert set(sources) == {
        RESERVATION_STREAM.handler,
        STAFF_NOTIFICATIONS.handler,
        GUEST_NOTIFICATIONS.handler,
        DAILY_SUMMARY.handler,
        EXPIRY_HANDLER,
        RETENTION_HANDLER,
    }
    for handler, every in (
        (EXPIRY_HANDLER, (EXPIRY_SCHEDULE_MINUTES, Rate.MINUTES)),
        (RETENTION_HANDLER, (RETENTION_SCHEDULE_HOURS, Rate.HOURS)),
    ):
        schedule = sources[handler]
        assert isinstance(schedule, ScheduledEventConfig)
        rate = schedule.schedule_expression
        assert isinstance(rate, Rate)
        assert (rate.value, rate.unit) == every
    stream = sources[RESERVATION_STREAM.handler]
    assert isinstance(stream, DynamoDBEventConfig)
    assert stream.batch_size == RESERVATION_STREAM.batch_size
    assert stream.starting_position == RESERVATION_STREAM.starting_position
    assert stream.maximum_batching_window_in_seconds == RESERVATION_STREAM.batching_window_seconds
    queue = sources[STAFF_NOTIFICATIONS.handler]
    assert isinstance(queue, SQSEventConfig)
    assert queue.batch_size == STAFF_NOTIFICATIONS.batch_size
    for subscription in (GUEST_NOTIFICATIONS, DAILY_SUMMARY):
        rule = sources[subscription.handler]
        assert isinstance(rule, CloudWatchEventConfig)
        assert rule.event_pattern == subscription.pattern


def record(event_name: str, entity: str | None) -> dict[str, object]:
    image = {"PK": {"S": "x"}} | ({"entity": {"S": entity}} if entity else {})
    return {"eventName": event_name, "dynamodb": {"NewImage": image}}


def test_the_stream_filter_and_the_codes_own_check_agree() -> None:
    cases = [
        record(name, entity)
        for name in ("INSERT", "MODIFY", "REMOVE")
        for entity in ("reservation", "occupancy", "daily_summary", "applied_event", None)
    ]
    for case in cases:
        assert matches(RESERVATION_CHANGES_PATTERN, case) is is_reservation_change(case), case
    assert sum(is_reservation_change(c) for c in cases) == 2


def test_the_staff_queues_rule_routes_what_the_staff_notifier_handles() -> None:
    rule = load_resources()["Resources"][STAFF_NOTIFICATIONS.rule]["Properties"]
    assert rule["EventPattern"] == STAFF_NOTIFICATIONS.rule_pattern
    assert STAFF_NOTIFICATIONS.rule_pattern["detail-type"] == [
        "ReservationRequested",
        "ReservationCancelled",
        "ReservationDeclined",
        "StaffSignInRequested",
    ]
