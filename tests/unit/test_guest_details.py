"""Guests' details removed: at the guest's request once the reservation is over, and by the
retention period after the seating; the counts stay. On the in-memory stores."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain.errors import Conflict
from chalicelib.domain.reservations import REMOVED_BY_RETENTION, Reservation
from chalicelib.services.booking import ReservationDesk
from chalicelib.services.guest_details import GuestDetails
from chalicelib.services.ports import TimelineStep
from tests.builders import NOW, Clock, booking, local, next_weekday
from tests.fakes import InMemoryStores

FRIDAY = next_weekday(NOW, 4)
RID = "chez-test"


def details(store: InMemoryStores, clock: Clock, days: int = 90) -> GuestDetails:
    return GuestDetails(store.reservations, store.timeline, timedelta(days=days), clock)


def book(desk: ReservationDesk, hhmm: str = "19:30", **overrides: object) -> Reservation:
    command = booking(local(FRIDAY, hhmm), 2, notes="Window seat", **overrides)
    return desk.request(RID, command).reservation


def email_step(reservation: Reservation, step_id: str) -> TimelineStep:
    return TimelineStep(
        reservation.id,
        RID,
        "2026-03-02T09:00:01.000000Z",
        "email sent",
        step_id,
        {"consumer": "notify_guest", "message_id": "m-1", "to": "ada@example.com",
         "subject": "Confirmed: Ada Lovelace"},
    )  # fmt: skip


def test_a_guest_cannot_remove_their_details_before_the_reservation_is_over(
    desk: ReservationDesk, store: InMemoryStores, clock: Clock
) -> None:
    waiting = book(desk)
    accepted = desk.accept(RID, book(desk, "20:00").id)
    for reservation in (waiting, accepted):
        with pytest.raises(Conflict) as refused:
            details(store, clock).remove(RID, reservation.id, by="guest")
        assert refused.value.code == "reservation_not_over"
    assert all(r.guest is not None for r in store.reservations.stored.values())


def test_once_over_the_guest_removes_their_details_and_the_counts_stay(
    desk: ReservationDesk, store: InMemoryStores, clock: Clock
) -> None:
    declined = desk.decline(RID, book(desk).id, "We are full, sorry Ada")
    clock.advance(minutes=5)
    removed = details(store, clock).remove(RID, declined.id, by="guest")
    assert (removed.guest, removed.notes, removed.decline_reason) == (None, None, None)
    assert (removed.guest_details_removed_by, removed.guest_details_removed_at) == (
        "guest",
        clock.now,
    )
    kept = ("party_size", "starts_at", "ends_at", "status", "declined_by", "manage_token_hash")
    assert {f: getattr(removed, f) for f in kept} == {f: getattr(declined, f) for f in kept}
    assert removed.version == declined.version + 1
    assert store.reservations.get_reservation(RID, declined.id) == removed
    assert "Ada" not in str(removed.public()) and "example.com" not in str(removed.public())


def test_an_accepted_reservation_is_over_when_its_meal_has_ended(
    desk: ReservationDesk, store: InMemoryStores, clock: Clock
) -> None:
    accepted = desk.accept(RID, book(desk).id)
    clock.now = accepted.ends_at - timedelta(seconds=1)
    with pytest.raises(Conflict):
        details(store, clock).remove(RID, accepted.id, by="guest")
    clock.now = accepted.ends_at
    assert details(store, clock).remove(RID, accepted.id, by="guest").guest is None


def test_removing_twice_changes_nothing_the_second_time(
    desk: ReservationDesk, store: InMemoryStores, clock: Clock
) -> None:
    cancelled = desk.cancel(RID, book(desk).id, by="guest")
    first = details(store, clock).remove(RID, cancelled.id, by="guest")
    clock.advance(hours=1)
    assert details(store, clock).remove(RID, cancelled.id, by="staff") == first


def test_nothing_can_change_a_reservation_once_its_guest_is_gone(
    desk: ReservationDesk, store: InMemoryStores, clock: Clock
) -> None:
    accepted = desk.accept(RID, book(desk).id)
    clock.now = accepted.ends_at + timedelta(hours=1)
    details(store, clock).remove(RID, accepted.id, by="guest")
    with pytest.raises(Conflict) as refused:
        desk.cancel(RID, accepted.id, by="staff")  # nobody is left to tell
    assert refused.value.code == "guest_details_removed"


def test_removal_takes_the_recipients_off_the_timeline_and_keeps_the_rest(
    desk: ReservationDesk, store: InMemoryStores, clock: Clock
) -> None:
    cancelled = desk.cancel(RID, book(desk).id, by="guest")
    other = book(desk, "21:00")
    store.timeline.add_steps([email_step(cancelled, "a"), email_step(other, "b")])
    details(store, clock).remove(RID, cancelled.id, by="guest")
    [step] = store.timeline.steps(RID, cancelled.id)
    assert step.details == {"consumer": "notify_guest", "message_id": "m-1"}
    assert store.timeline.steps(RID, other.id)[0].details["to"] == "ada@example.com"


def test_the_retention_run_removes_details_the_period_after_the_seating_only(
    desk: ReservationDesk, store: InMemoryStores, clock: Clock
) -> None:
    accepted = desk.accept(RID, book(desk, "19:30").id)
    cancelled = desk.cancel(RID, book(desk, "20:00").id, by="guest")
    declined = desk.decline(RID, book(desk, "20:30").id, None)
    later = desk.accept(RID, desk.request(RID, booking(local(FRIDAY + timedelta(days=1),
                        "19:30"), 2)).reservation.id)  # fmt: skip
    run = details(store, clock)
    clock.now = accepted.starts_at + timedelta(days=90) - timedelta(seconds=1)
    assert run.remove_expired().view()["removed"] == 0
    clock.now = declined.starts_at + timedelta(days=90, seconds=30)
    done = run.remove_expired()
    assert (done.done, done.skipped) == (3, 0)
    assert done.max_lateness_seconds == 3600 + 30  # the 19:30 seating was due first
    stored = store.reservations.stored
    gone = {accepted.id, cancelled.id, declined.id}
    assert {rid for (_, rid), r in stored.items() if r.guest is None} == gone
    assert {r.guest_details_removed_by for r in stored.values() if r.guest is None} == {
        REMOVED_BY_RETENTION
    }
    assert stored[(RID, later.id)].guest is not None
    assert run.remove_expired().view() == {"removed": 0, "skipped": 0, "max_lateness_seconds": 0}


def test_the_retention_period_is_configurable(
    desk: ReservationDesk, store: InMemoryStores, clock: Clock
) -> None:
    accepted = desk.accept(RID, book(desk).id)
    clock.now = accepted.starts_at + timedelta(days=31)
    assert details(store, clock, days=90).remove_expired().done == 0
    assert details(store, clock, days=30).remove_expired().done == 1


def test_a_request_still_waiting_for_an_answer_is_left_to_the_expiry(
    desk: ReservationDesk, store: InMemoryStores, clock: Clock
) -> None:
    waiting = book(desk)
    clock.now = waiting.starts_at + timedelta(days=91)
    assert details(store, clock).remove_expired().done == 0  # the expiry declines it first
    assert store.reservations.get_reservation(RID, waiting.id).guest is not None  # type: ignore[union-attr]


def test_removal_is_no_event_so_nobody_is_emailed_and_nothing_is_counted(
    desk: ReservationDesk, store: InMemoryStores, clock: Clock
) -> None:
    from chalicelib.domain.events import event_for_change

    accepted = desk.accept(RID, book(desk).id)
    clock.now = accepted.ends_at
    removed = details(store, clock).remove(RID, accepted.id, by="guest")
    assert event_for_change(accepted, removed) is None
