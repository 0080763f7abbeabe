"""Status machine, covers released, idempotent requests, availability and the day sheet."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import timedelta

import pytest

from chalicelib.domain.errors import IdempotencyKeyReused, Invalid, InvalidTransition, SlotFull
from chalicelib.domain.reservations import TRANSITIONS, Status
from chalicelib.domain.tokens import digest
from chalicelib.services.booking import ReservationDesk
from tests.builders import NOW, Clock, booking, local, next_weekday, restaurant_spec
from tests.fakes import InMemoryStores

WEDNESDAY = next_weekday(NOW, 2)


def book(desk: ReservationDesk, hhmm: str = "19:30", party_size: int = 4) -> str:
    return desk.request("chez-test", booking(local(WEDNESDAY, hhmm), party_size)).reservation.id


def move(desk: ReservationDesk, reservation_id: str, to: Status) -> object:
    if to is Status.ACCEPTED:
        return desk.accept("chez-test", reservation_id)
    if to is Status.DECLINED:
        return desk.decline("chez-test", reservation_id, "private event")
    return desk.cancel("chez-test", reservation_id, by="staff")


def path_to(desk: ReservationDesk, status: Status) -> str:
    reservation_id = book(desk)
    if status is not Status.PENDING:
        move(desk, reservation_id, status)
    return reservation_id


ACTIONS = (Status.ACCEPTED, Status.DECLINED, Status.CANCELLED)
ALL_PAIRS = [(a, b) for a in Status for b in ACTIONS]


@pytest.mark.parametrize(("start", "target"), ALL_PAIRS)
def test_status_machine(desk: ReservationDesk, start: Status, target: Status) -> None:
    reservation_id = path_to(desk, start)
    if target in TRANSITIONS[start]:
        moved = move(desk, reservation_id, target)
        assert desk.get("chez-test", reservation_id).status is target
        assert moved == desk.get("chez-test", reservation_id)
    else:
        with pytest.raises(InvalidTransition) as caught:
            move(desk, reservation_id, target)
        assert (caught.value.current, caught.value.requested) == (start.value, target.value)
        assert desk.get("chez-test", reservation_id).status is start


def test_transitions_bump_version_and_record_who_and_why(desk: ReservationDesk) -> None:
    reservation_id = book(desk)
    declined = desk.decline("chez-test", reservation_id, "kitchen closed for a private event")
    assert (declined.version, declined.decline_reason) == (2, "kitchen closed for a private event")
    other = book(desk, "12:00")
    assert desk.cancel("chez-test", other, by="guest").cancelled_by == "guest"


@pytest.mark.parametrize("release", [Status.DECLINED, Status.CANCELLED])
def test_declined_and_cancelled_free_their_covers(
    desk: ReservationDesk, store: InMemoryStores, release: Status
) -> None:
    first = book(desk, party_size=8)
    with pytest.raises(SlotFull):
        book(desk, party_size=2)
    move(desk, first, release)
    assert set(store.reservations.covers["chez-test"].values()) == {0}
    assert book(desk, party_size=8)


def test_accepting_keeps_the_covers(desk: ReservationDesk) -> None:
    desk.accept("chez-test", book(desk, party_size=8))
    with pytest.raises(SlotFull):
        book(desk, party_size=1)


def test_guests_cannot_cancel_once_the_seating_time_has_passed(
    desk: ReservationDesk, clock: Clock
) -> None:
    reservation_id = book(desk)
    clock.now = local(WEDNESDAY, "19:31")
    with pytest.raises(Invalid) as caught:
        desk.cancel("chez-test", reservation_id, by="guest")
    assert caught.value.code == "too_late_to_cancel"
    assert desk.cancel("chez-test", reservation_id, by="staff").status is Status.CANCELLED


def test_the_manage_token_is_stored_only_as_a_digest(
    desk: ReservationDesk, store: InMemoryStores
) -> None:
    booked = desk.request("chez-test", booking(local(WEDNESDAY, "19:30")))
    stored = store.reservations.stored[("chez-test", booked.reservation.id)]
    assert booked.manage_token not in stored.model_dump_json()
    assert stored.manage_token_hash == digest(booked.manage_token)
    assert "manage_token_hash" not in stored.public()


class TestIdempotencyKey:
    def test_a_retry_returns_the_same_reservation_and_creates_nothing(
        self, desk: ReservationDesk, store: InMemoryStores
    ) -> None:
        request = booking(local(WEDNESDAY, "19:30"), 4)
        first = desk.request("chez-test", request, idempotency_key="retry-me")
        again = desk.request("chez-test", request, idempotency_key="retry-me")
        assert (first.replayed, again.replayed) == (False, True)
        assert again.reservation == first.reservation
        assert again.manage_token == first.manage_token
        assert len(store.reservations.stored) == 1
        assert max(store.reservations.covers["chez-test"].values()) == 4

    def test_a_replay_succeeds_even_when_the_slot_is_now_full(
        self, desk: ReservationDesk, clock: Clock
    ) -> None:
        request = booking(local(WEDNESDAY, "19:30"), 8)
        first = desk.request("chez-test", request, idempotency_key="k1")
        clock.advance(hours=23)
        replay = desk.request("chez-test", request, idempotency_key="k1")
        assert replay.reservation == first.reservation and replay.replayed

    def test_the_same_key_with_another_body_is_rejected(
        self, desk: ReservationDesk, store: InMemoryStores
    ) -> None:
        desk.request("chez-test", booking(local(WEDNESDAY, "19:30"), 2), idempotency_key="k")
        with pytest.raises(IdempotencyKeyReused) as caught:
            desk.request("chez-test", booking(local(WEDNESDAY, "19:30"), 3), idempotency_key="k")
        assert caught.value.field == "Idempotency-Key"
        assert len(store.reservations.stored) == 1

    def test_a_key_claimed_before_guests_chose_a_language_still_matches_its_retry(
        self, desk: ReservationDesk, store: InMemoryStores
    ) -> None:
        request = booking(local(WEDNESDAY, "19:30"), 2)
        first = desk.request("chez-test", request, idempotency_key="k")
        [(key, claim)] = store.reservations.idempotency.items()
        # The fingerprint a claim got before `language` existed: the body without that field.
        before = request.model_dump(mode="json", exclude={"language"})
        old_body = json.dumps(before, separators=(",", ":"), ensure_ascii=False)
        store.reservations.idempotency[key] = replace(
            claim, fingerprint=hashlib.sha256(old_body.encode()).hexdigest()
        )
        again = desk.request("chez-test", request, idempotency_key="k")
        assert again.replayed and again.reservation.id == first.reservation.id
        with pytest.raises(IdempotencyKeyReused):  # choosing a language is another body
            desk.request("chez-test", request.model_copy(update={"language": "fr"}), "k")

    def test_keys_are_per_restaurant(self, desk: ReservationDesk, store: InMemoryStores) -> None:
        store.admin(Clock()).create(restaurant_spec("other"))
        request = booking(local(WEDNESDAY, "19:30"))
        a = desk.request("chez-test", request, idempotency_key="k")
        b = desk.request("other", request, idempotency_key="k")
        assert a.reservation.id != b.reservation.id

    def test_an_expired_key_books_again(self, desk: ReservationDesk, clock: Clock) -> None:
        request = booking(local(WEDNESDAY, "19:30"), 2)
        first = desk.request("chez-test", request, idempotency_key="k")
        clock.advance(hours=25)
        second = desk.request("chez-test", request, idempotency_key="k")
        assert not second.replayed and second.reservation.id != first.reservation.id

    @pytest.mark.parametrize("key", ["", "x" * 256, "tab\there"])
    def test_malformed_keys(self, desk: ReservationDesk, key: str) -> None:
        with pytest.raises(Invalid) as caught:
            desk.request("chez-test", booking(local(WEDNESDAY, "19:30")), idempotency_key=key)
        assert caught.value.field == "Idempotency-Key"


def test_availability_marks_full_and_unbookable_seatings(
    desk: ReservationDesk, clock: Clock
) -> None:
    book(desk, "19:30", party_size=6)
    day = desk.availability("chez-test", WEDNESDAY, party_size=4)
    free = {s.starts_at.strftime("%H:%M"): s.available for s in day.seatings}
    assert free["19:00"] is False  # overlaps 19:30-21:00 (6 of 8 held)
    assert free["21:00"] is True and free["12:00"] is True
    assert desk.availability("chez-test", WEDNESDAY, party_size=2).seatings[8].available
    clock.now = local(WEDNESDAY, "12:30")
    later = {
        s.starts_at.strftime("%H:%M"): s.available
        for s in desk.availability("chez-test", WEDNESDAY, 2).seatings
    }
    assert later["12:00"] is False and later["13:00"] is False and later["21:00"] is True


def test_availability_checks_the_party_size(desk: ReservationDesk) -> None:
    with pytest.raises(Invalid):
        desk.availability("chez-test", WEDNESDAY, party_size=9)


def test_day_sheet_is_sorted_by_time_and_filters_by_status(desk: ReservationDesk) -> None:
    late, early, middle = book(desk, "21:00", 1), book(desk, "12:00", 1), book(desk, "19:30", 1)
    desk.accept("chez-test", middle)
    sheet = desk.day_sheet("chez-test", WEDNESDAY)
    assert [r.id for r in sheet] == [early, middle, late]
    accepted = desk.day_sheet("chez-test", WEDNESDAY, [Status.ACCEPTED])
    assert [r.id for r in accepted] == [middle]
    assert desk.day_sheet("chez-test", WEDNESDAY + timedelta(days=1)) == []
