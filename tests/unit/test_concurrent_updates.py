"""Optimistic concurrency, in the one place that retries it (`domain.errors.on_a_fresh_read`)
and in each change that goes through it: a writer that got in first makes the change run again
on a fresh read; once the attempts are spent, each says so its own way. On the in-memory
stores, whose `save_transition` refuses a stale version as DynamoDB's condition does."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from chalicelib.domain.errors import ConcurrentUpdate, Conflict, on_a_fresh_read
from chalicelib.domain.reservations import Reservation, Status
from chalicelib.services.booking import ReservationDesk
from chalicelib.services.expiry import UnansweredRequests
from tests.builders import Clock
from tests.fakes import InMemoryStores
from tests.unit.test_guest_details import RID, book, details


def test_it_runs_again_after_a_concurrent_update_and_gives_up_after_three() -> None:
    calls: list[int] = []

    def twice_late() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ConcurrentUpdate("someone else wrote first")
        return "written"

    assert on_a_fresh_read(twice_late) == "written" and len(calls) == 3
    calls.clear()

    def always_late() -> str:
        calls.append(1)
        raise ConcurrentUpdate("someone else wrote first")

    assert on_a_fresh_read(always_late) is None and len(calls) == 3


def test_any_other_refusal_is_not_retried() -> None:
    calls: list[int] = []

    def refused() -> None:
        calls.append(1)
        raise Conflict("not allowed")

    with pytest.raises(Conflict):
        on_a_fresh_read(refused)
    assert len(calls) == 1


class Competitor:
    """Another writer of the reservation: it lets the first `after` saves through, then gets in
    before each of the next `times` (writing the reservation one version on), so that those
    saves find the version they read gone."""

    def __init__(self, store: InMemoryStores, *, after: int, times: int) -> None:
        self.saves = 0
        reservations = store.reservations
        save = reservations.save_transition

        def save_after_the_competitor(before: Reservation, then: Reservation) -> None:
            self.saves += 1
            if after < self.saves <= after + times:
                key = (before.restaurant_id, before.id)
                current = reservations.stored[key]
                reservations.stored[key] = current.model_copy(
                    update={"version": current.version + 1}
                )
            save(before, then)

        setattr(reservations, "save_transition", save_after_the_competitor)  # noqa: B010


Change = Callable[[ReservationDesk, InMemoryStores, Clock, Reservation], object]


def accept(desk: ReservationDesk, store: InMemoryStores, clock: Clock, r: Reservation) -> object:
    return desk.accept(RID, r.id)


def remove(desk: ReservationDesk, store: InMemoryStores, clock: Clock, r: Reservation) -> object:
    desk.cancel(RID, r.id, by="guest")  # over: the guest may remove their details
    return details(store, clock).remove(RID, r.id, by="guest")


def retain(desk: ReservationDesk, store: InMemoryStores, clock: Clock, r: Reservation) -> object:
    desk.accept(RID, r.id)  # answered: in the retention's part of the due index
    clock.now = r.starts_at + timedelta(days=90, minutes=1)
    return details(store, clock).remove_expired().view()


def expire(desk: ReservationDesk, store: InMemoryStores, clock: Clock, r: Reservation) -> object:
    assert r.answer_by is not None
    clock.now = r.answer_by + timedelta(minutes=1)
    return UnansweredRequests(store.reservations, clock).expire().view()


# change -> (saves its setup makes first, whether the change is made)
CHANGES: dict[Change, tuple[int, Callable[[Reservation], bool]]] = {
    accept: (0, lambda r: r.status is Status.ACCEPTED),
    remove: (1, lambda r: r.guest_details_removed),
    retain: (1, lambda r: r.guest_details_removed),
    expire: (0, lambda r: r.status is Status.DECLINED),
}


@pytest.mark.parametrize("change", list(CHANGES), ids=lambda c: c.__name__)
def test_each_change_is_made_on_a_fresh_read_after_another_writer(
    change: Change, desk: ReservationDesk, store: InMemoryStores, clock: Clock
) -> None:
    reservation = book(desk)
    setup, made = CHANGES[change]
    competitor = Competitor(store, after=setup, times=2)
    change(desk, store, clock, reservation)
    assert made(store.reservations.stored[(RID, reservation.id)])
    assert competitor.saves == setup + 3  # two refused, the third on a fresh read


@pytest.mark.parametrize("change", list(CHANGES), ids=lambda c: c.__name__)
def test_each_change_says_so_once_the_attempts_are_spent(
    change: Change, desk: ReservationDesk, store: InMemoryStores, clock: Clock
) -> None:
    reservation = book(desk)
    setup, made = CHANGES[change]
    competitor = Competitor(store, after=setup, times=3)
    if change in (accept, remove):  # asked by a person: 409 concurrent_update, to retry
        with pytest.raises(ConcurrentUpdate):
            change(desk, store, clock, reservation)
    else:  # a scheduled run: counted as skipped; the next run takes it
        result = change(desk, store, clock, reservation)
        assert isinstance(result, dict) and result["skipped"] == 1, result
    assert competitor.saves == setup + 3
    assert not made(store.reservations.stored[(RID, reservation.id)])
