"""The daily-totals consumer writes each reservation event's "event on the bus" step, once."""

from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.domain.events import BusinessEvent, event_for_change
from chalicelib.domain.reservations import Status
from chalicelib.services.notifications import DailySummaries
from chalicelib.services.ports import TimelineStep
from tests.builders import NOW
from tests.fakes import InMemoryStores
from tests.unit.test_events import pending


def accepted(at: datetime = NOW) -> BusinessEvent:
    before = pending()
    event = event_for_change(before, before.moved_to(Status.ACCEPTED, now=at))
    assert event is not None
    return event


def test_an_applied_event_is_one_step_and_a_redelivery_writes_none() -> None:
    stores, event = InMemoryStores(), accepted()
    summaries = DailySummaries(stores.restaurants, stores.totals, None, stores.timeline)
    assert summaries.apply(event, "2026-03-02T08:00:05Z")
    assert not summaries.apply(event, "2026-03-02T09:30:00Z")  # put on the bus again later
    [step] = stores.timeline.steps(event.reservation.restaurant_id, event.reservation.id)
    assert (step.what, step.step_id, step.at) == (
        "event on the bus",
        event.event_id,
        "2026-03-02T08:00:05.000000Z",
    )
    assert step.details == {
        "event": "ReservationAccepted",
        "event_id": event.event_id,
        "status": "ACCEPTED",
        "previous_status": "PENDING",
        "correlation_id": event.correlation_id or "",
    }


def test_the_step_is_never_before_the_change_and_sorts_as_text() -> None:
    stores = InMemoryStores()
    summaries = DailySummaries(stores.restaurants, stores.totals, None, stores.timeline)
    changed = NOW + timedelta(milliseconds=700)
    event = accepted(changed)
    # The bus writes whole seconds: in the change's own second, it reads as earlier.
    summaries.apply(event, text(NOW))
    [step] = stores.timeline.steps(event.reservation.restaurant_id, event.reservation.id)
    assert step.at == "2026-03-02T08:00:00.700000Z" == text(changed, "microseconds")
    later = accepted(changed)
    summaries.apply(later, text(NOW + timedelta(seconds=3)))
    [step] = stores.timeline.steps(later.reservation.restaurant_id, later.reservation.id)
    assert step.at == "2026-03-02T08:00:03.000000Z"
    # No bus time given (a caller with the event alone): the change's time.
    third = accepted(NOW)
    summaries.apply(third)
    [step] = stores.timeline.steps(third.reservation.restaurant_id, third.reservation.id)
    assert step.at == "2026-03-02T08:00:00.000000Z"  # not "…:00Z", which sorts after ".7Z"


def text(moment: datetime, timespec: str = "auto") -> str:
    return moment.isoformat(timespec=timespec).replace("+00:00", "Z")


class BrokenTimeline:
    def add_steps(self, steps: list[TimelineStep]) -> None:
        raise RuntimeError("the table is away")

    def steps(self, restaurant_id: str, reservation_id: str) -> list[TimelineStep]:
        return []

    def remove_personal_details(self, restaurant_id: str, reservation_id: str) -> int:
        raise RuntimeError("the table is away")


def test_a_step_that_cannot_be_written_leaves_the_totals_counted() -> None:
    stores, event = InMemoryStores(), accepted()
    summaries = DailySummaries(stores.restaurants, stores.totals, None, BrokenTimeline())
    assert summaries.apply(event, "2026-03-02T08:00:05Z")
    assert event.event_id in stores.totals.applied_events
