"""Unanswered requests expire: the deadline, and the scheduled run on the in-memory store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.domain.reservations import (
    DECLINED_BY_DEADLINE,
    DECLINED_BY_STAFF,
    NO_ANSWER_REASON,
    Reservation,
    Status,
    answer_deadline,
)
from chalicelib.services.booking import ReservationDesk
from chalicelib.services.expiry import UnansweredRequests
from tests.builders import NOW, Clock, booking, local, next_weekday, restaurant_spec
from tests.fakes import InMemoryReservations, InMemoryStores

FRIDAY = next_weekday(NOW, 4)  # more than 24 h after NOW: the 24 h deadline comes first
RID = "chez-test"


def book(desk: ReservationDesk, hhmm: str = "19:30", day: object = FRIDAY) -> Reservation:
    return desk.request(RID, booking(local(day, hhmm), 2)).reservation  # type: ignore[arg-type]


def expire(store: InMemoryStores, clock: Clock) -> dict[str, int | float]:
    return UnansweredRequests(store.reservations, clock).expire().view()


def test_the_deadline_is_the_setting_after_the_request() -> None:
    requested = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    seating = datetime(2026, 3, 6, 18, 30, tzinfo=UTC)
    assert answer_deadline(requested, seating, 24) == requested + timedelta(hours=24)


def test_a_late_request_for_an_early_seating_expires_at_the_seating() -> None:
    requested = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    seating = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
    assert answer_deadline(requested, seating, 24) == seating


def test_a_booking_carries_its_deadline(desk: ReservationDesk, clock: Clock) -> None:
    assert book(desk).answer_by == NOW + timedelta(hours=24)
    today_lunch = book(desk, "12:30", NOW.date())  # NOW is 09:00 in Paris: 3.5 h on
    assert today_lunch.answer_by == today_lunch.starts_at_utc


def test_only_overdue_pending_requests_expire(
    desk: ReservationDesk, store: InMemoryStores, clock: Clock
) -> None:
    overdue = book(desk, "19:30")
    accepted = book(desk, "20:00")
    desk.accept(RID, accepted.id)
    cancelled = book(desk, "20:30")
    desk.cancel(RID, cancelled.id, by="guest")
    clock.advance(hours=1)
    later = book(desk, "21:00")  # its deadline is an hour after the others'
    clock.advance(hours=23, seconds=30)

    assert expire(store, clock) == {"expired": 1, "skipped": 0, "max_lateness_seconds": 30.0}

    declined = desk.get(RID, overdue.id)
    assert declined.status is Status.DECLINED
    assert declined.decline_reason == NO_ANSWER_REASON
    assert declined.declined_by == DECLINED_BY_DEADLINE
    assert desk.get(RID, accepted.id).status is Status.ACCEPTED
    assert desk.get(RID, cancelled.id).status is Status.CANCELLED
    assert desk.get(RID, later.id).status is Status.PENDING
    held = store.reservations.covers_held(RID, overdue.starts_at, overdue.ends_at)
    assert held[overdue.starts_at_utc] == 0  # released (only `overdue` held 19:30)


def test_a_second_run_changes_nothing(
    desk: ReservationDesk, store: InMemoryStores, clock: Clock
) -> None:
    overdue = book(desk)
    clock.advance(hours=25)
    assert expire(store, clock)["expired"] == 1
    once = desk.get(RID, overdue.id)
    covers = dict(store.reservations.covers[RID])
    assert expire(store, clock) == {"expired": 0, "skipped": 0, "max_lateness_seconds": 0.0}
    assert desk.get(RID, overdue.id) == once
    assert store.reservations.covers[RID] == covers


def test_a_staff_decline_is_marked_as_staff(desk: ReservationDesk) -> None:
    reservation = book(desk)
    assert desk.decline(RID, reservation.id, None).declined_by == DECLINED_BY_STAFF


class AcceptLandsAfterTheRead(InMemoryReservations):
    """The expiry reads the request, then staff accept it before the decline is written: the
    interleaving the version condition exists for."""

    def __init__(self, accept: object) -> None:
        super().__init__()
        self.accept = accept
        self.raced = False

    def get_reservation(self, restaurant_id: str, reservation_id: str) -> Reservation | None:
        found = super().get_reservation(restaurant_id, reservation_id)
        if not self.raced and found is not None and found.status is Status.PENDING:
            self.raced = True
            accepted = found.moved_to(Status.ACCEPTED, now=found.updated_at)
            self.save_transition(found, accepted)
        return found


def test_an_accept_that_lands_first_wins(clock: Clock) -> None:
    store = InMemoryStores()
    store.reservations = AcceptLandsAfterTheRead(None)
    store.admin(clock).create(restaurant_spec(capacity=8))
    reservation = book(store.desk(clock))
    store.reservations.raced = False  # the booking's own reads do not count
    clock.advance(hours=25)

    assert expire(store, clock) == {"expired": 0, "skipped": 1, "max_lateness_seconds": 0.0}

    kept = store.reservations.stored[(RID, reservation.id)]
    assert kept.status is Status.ACCEPTED
    assert kept.decline_reason is None


def test_the_lateness_is_the_time_after_the_deadline(
    desk: ReservationDesk, store: InMemoryStores, clock: Clock
) -> None:
    for hhmm in ("19:00", "19:30", "20:00"):
        book(desk, hhmm)
        clock.advance(seconds=20)
    clock.advance(hours=24)  # the first is 60 s overdue, the last 20 s
    assert expire(store, clock) == {"expired": 3, "skipped": 0, "max_lateness_seconds": 60.0}
