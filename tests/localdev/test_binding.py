"""The local engine knows this app through `localdev.binding` only."""

from __future__ import annotations

from typing import Any

from chalice.app import DynamoDBEventConfig

from chalicelib.adapters.dynamodb.reservations import reservation_item
from chalicelib.wiring.event_sources import (
    DAILY_SUMMARY,
    GUEST_NOTIFICATIONS,
    RESERVATION_CHANGES_PATTERN,
    RESERVATION_STREAM,
    SIGN_IN_REQUESTS_PATTERN,
)
from infra import ROOT
from localdev.binding import ReservationsApp
from localdev.runner import BusDelivery
from tests.builders import stored_reservation
from tests.unit.test_import_boundaries import imported_modules

APP = ReservationsApp()


def test_only_the_binding_imports_the_app() -> None:
    found = [
        f"{path.name} imports {module}"
        for path in sorted((ROOT / "localdev").glob("*.py"))
        if path.name != "binding.py"
        for module in sorted(imported_modules(path.read_text()))
        if module == "app" or module.startswith("chalicelib")
    ]
    assert found == []


def test_stream_settings_complete_the_decorator_from_the_mapping() -> None:
    config = DynamoDBEventConfig(
        name=RESERVATION_STREAM.handler, handler_string="app.x",
        stream_arn="arn", batch_size=100, starting_position="TRIM_HORIZON",
        maximum_batching_window_in_seconds=1,
    )  # fmt: skip
    settings = APP.stream_settings(RESERVATION_STREAM.handler, config)
    assert (settings.batch_size, settings.batching_window_seconds) == (100, 1)
    assert settings.maximum_retry_attempts == RESERVATION_STREAM.maximum_retry_attempts
    assert settings.bisect_on_error is True and settings.reports_batch_item_failures is True
    assert settings.maximum_record_age_seconds == RESERVATION_STREAM.maximum_record_age_seconds
    assert settings.filter_patterns == (RESERVATION_CHANGES_PATTERN, SIGN_IN_REQUESTS_PATTERN)
    assert settings.on_failure_destination == "StreamFailureBucket"
    bare = APP.stream_settings("some_other_handler", config)
    assert (bare.maximum_retry_attempts, bare.on_failure_destination, bare.filter_patterns) == (
        -1,
        None,
        (),
    )


def test_bus_delivery_of_each_subscription() -> None:
    for subscription in (GUEST_NOTIFICATIONS, DAILY_SUMMARY):
        assert APP.bus_delivery(subscription.handler) == BusDelivery(
            subscription.maximum_retry_attempts, subscription.dead_letter_queue
        )
    assert APP.bus_delivery("unknown") == BusDelivery()


def record(name: str, new: dict[str, Any], old: dict[str, Any] | None = None) -> dict[str, Any]:
    images = {"NewImage": new, **({"OldImage": old} if old else {})}
    return {"eventName": name, "dynamodb": {**images, "SequenceNumber": "1"}}


def test_stream_records_and_events_in_words() -> None:
    booked = stored_reservation("19:30", 4, "chez-test")
    inserted = record("INSERT", reservation_item(booked))
    assert APP.describe_stream_record(inserted) == ("INSERT reservation PENDING", booked.id)
    same = record("MODIFY", reservation_item(booked), reservation_item(booked))
    assert APP.describe_stream_record(same) == ("MODIFY (no business event)", None)
    broken = record("INSERT", {**reservation_item(booked), "party_size": {"S": "many"}})
    assert APP.describe_stream_record(broken) == ("INSERT unreadable reservation record", None)
    assert APP.event_reservation({"reservation": {"id": booked.id}}) == booked.id
    assert APP.event_reservation("not an event") is None
