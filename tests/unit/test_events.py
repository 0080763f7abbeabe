"""Which change means which business event, and the ids consumers deduplicate on."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest

from chalicelib.domain.events import (
    ReservationAccepted,
    ReservationCancelled,
    ReservationDeclined,
    ReservationRequested,
    event_for_change,
    sign_in_requested,
)
from chalicelib.domain.reservations import Reservation, Status
from tests.builders import NOW, stored_reservation


def pending() -> Reservation:
    return stored_reservation(party_size=2, notes="<b>birthday</b>")


def test_a_new_reservation_is_requested() -> None:
    reservation = pending()
    event = event_for_change(None, reservation)
    assert isinstance(event, ReservationRequested)
    assert event.previous_status is None and event.schema_version == 1
    assert event.reservation.starts_at.endswith("+01:00")
    assert event.reservation.guest.email == "ada@example.com"
    assert "manage_token_hash" not in event.model_dump_json()


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (Status.ACCEPTED, ReservationAccepted),
        (Status.DECLINED, ReservationDeclined),
        (Status.CANCELLED, ReservationCancelled),
    ],
)
def test_status_changes(status: Status, kind: type) -> None:
    before = pending()
    after = before.moved_to(status, now=NOW + timedelta(hours=1), decline_reason="full")
    event = event_for_change(before, after)
    assert event is not None and isinstance(event, kind)
    assert event.previous_status is Status.PENDING
    assert event.occurred_at == (NOW + timedelta(hours=1)).isoformat().replace("+00:00", "Z")


def test_a_write_that_keeps_the_status_means_nothing() -> None:
    reservation = pending()
    assert event_for_change(reservation, reservation) is None


def test_event_ids_are_deterministic_and_distinct_per_change() -> None:
    before = pending()
    accepted = before.moved_to(Status.ACCEPTED, now=NOW)
    cancelled = accepted.moved_to(Status.CANCELLED, now=NOW)
    changes = [(None, before), (before, accepted), (accepted, cancelled)]

    def ids() -> list[str]:
        return [event.event_id for b, a in changes if (event := event_for_change(b, a))]

    assert ids() == ids()
    assert len(set(ids())) == 3


def test_event_ids_are_the_uuid5_of_the_change_as_before() -> None:
    """Consumers deduplicate on these ids: they must never change for the same change (the
    values were computed with uuid.uuid5 before it was inlined)."""
    reservation = pending().model_copy(update={"id": "01M8SD3R33VR21MQZ8PFNVNT73"})
    event = event_for_change(None, reservation)
    assert event is not None and event.event_id == "1e8ffba6-4e1e-5995-b4d3-5618c06f8eea"
    signed = sign_in_requested("req-1", "chez-test", "chef@example.com", "2026-03-02T08:00Z", None)
    assert signed.event_id == "71bd67d2-9923-507c-9824-60ee99ea4361"


@pytest.mark.parametrize("restaurant_id", ["chez-test", "café-été", "a" * 200, "🍷", ""])
def test_event_ids_match_uuid5_for_any_restaurant(restaurant_id: str) -> None:
    reservation = pending().model_copy(update={"restaurant_id": restaurant_id})
    event = event_for_change(None, reservation)
    change = f"{restaurant_id}/{reservation.id}/v1/ReservationRequested"
    namespace = uuid.UUID("6f1d7c3e-2b8a-4e59-9c1a-5d0b7e4f3a21")  # the events namespace
    assert event is not None and event.event_id == str(uuid.uuid5(namespace, change))


def test_the_detail_has_exactly_the_contracts_fields() -> None:
    event = event_for_change(None, pending())
    assert event is not None
    detail = json.loads(event.model_dump_json())
    top = {"event_id", "schema_version", "occurred_at", "previous_status", "reservation",
           "correlation_id"}  # fmt: skip
    state = {"id", "restaurant_id", "status", "party_size", "starts_at", "guest", "notes",
             "decline_reason", "ends_at", "version", "language", "cancelled_by",
             "declined_by", "answer_by"}  # fmt: skip
    assert set(detail) == top
    assert set(detail["reservation"]) == state
    assert set(detail["reservation"]["guest"]) == {"name", "email", "phone"}


def test_a_cancellation_says_who_cancelled_and_the_guests_language() -> None:
    booked = pending().model_copy(update={"language": "fr"})
    cancelled = booked.moved_to(Status.CANCELLED, now=NOW, cancelled_by="guest")
    event = event_for_change(booked, cancelled)
    assert event is not None
    state = event.reservation
    assert (state.cancelled_by, state.language, state.version) == ("guest", "fr", 2)
    assert state.ends_at == "2026-03-04T21:00:00+01:00"  # the meal's end, restaurant's offset


def test_events_published_before_the_additive_fields_still_read() -> None:
    event = event_for_change(None, pending())
    assert event is not None
    older = json.loads(event.model_dump_json())
    for added in ("ends_at", "version", "language", "cancelled_by"):
        del older["reservation"][added]
    state = ReservationRequested.model_validate(older).reservation
    assert (state.ends_at, state.version, state.language, state.cancelled_by) == (None,) * 4
