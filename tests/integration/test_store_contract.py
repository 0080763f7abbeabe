"""One contract, two stores: the in-memory fake the unit tests use and the DynamoDB adapter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.domain.errors import AlreadyExists, ConcurrentUpdate, NotFound, SlotFull
from chalicelib.domain.ids import new_id
from chalicelib.domain.reservations import Reservation, Status
from chalicelib.domain.restaurants import Restaurant
from chalicelib.domain.tokens import digest
from chalicelib.services.ports import (
    IdempotencyKeyTaken,
    IdempotencyRecord,
    QuotaExceeded,
    RequestQuota,
    StaffToken,
    Stores,
)
from tests.builders import NOW, PARIS, local, next_weekday, restaurant_spec, stored_reservation
from tests.fakes import InMemoryStores

WEDNESDAY = next_weekday(NOW, 2)


@pytest.fixture(params=["fake", "dynamodb"])
def store(request: pytest.FixtureRequest) -> Stores:
    if request.param == "fake":
        return InMemoryStores().ports()
    dynamo: Stores = request.getfixturevalue("dynamo_stores")
    return dynamo


def restaurant(restaurant_id: str = "chez-test", **overrides: Any) -> Restaurant:
    spec = restaurant_spec(restaurant_id, **overrides)
    return Restaurant(**spec.model_dump(), version=1, created_at=NOW, updated_at=NOW)


def reservation(
    hhmm: str = "19:30", party_size: int = 4, restaurant_id: str = "chez-test"
) -> Reservation:
    return stored_reservation(hhmm, party_size, restaurant_id)


def test_restaurants_round_trip_and_ids_are_unique(store: Stores) -> None:
    store.restaurants.add_restaurant(restaurant())
    assert store.restaurants.get_restaurant("chez-test") == restaurant()
    assert store.restaurants.get_restaurant("missing") is None
    with pytest.raises(AlreadyExists):
        store.restaurants.add_restaurant(restaurant())


def test_a_restaurants_contact_settings_round_trip(store: Stores) -> None:
    placed = restaurant(
        address="12 rue des Martyrs, 75009 Paris",
        phone="+33142000000",
        locale="fr",
        contact_email="bonjour@chez-test.example",
    )
    store.restaurants.add_restaurant(placed)
    assert store.restaurants.get_restaurant("chez-test") == placed


def test_a_guests_language_round_trips(store: Stores) -> None:
    booked = reservation().model_copy(update={"language": "fr"})
    store.reservations.add_reservation(booked, capacity=40, idempotency=None)
    found = store.reservations.get_reservation("chez-test", booked.id)
    assert found == booked and found.language == "fr"


def test_replacing_a_restaurant_is_optimistic(store: Stores) -> None:
    store.restaurants.add_restaurant(restaurant())
    changed = restaurant(capacity=60).model_copy(update={"version": 2})
    store.restaurants.replace_restaurant(changed)
    assert store.restaurants.get_restaurant("chez-test") == changed
    with pytest.raises(ConcurrentUpdate):
        store.restaurants.replace_restaurant(changed)  # still claims to follow version 1


def test_reservations_round_trip_with_covers(store: Stores) -> None:
    booked = reservation()
    store.reservations.add_reservation(booked, capacity=40, idempotency=None)
    assert store.reservations.get_reservation("chez-test", booked.id) == booked
    held = store.reservations.covers_held("chez-test", booked.starts_at, booked.ends_at)
    assert sorted(held.values()) == [4] * 6
    assert store.reservations.get_reservation("chez-test", new_id()) is None


def test_capacity_is_all_or_nothing(store: Stores) -> None:
    store.reservations.add_reservation(reservation("20:30", 6), capacity=8, idempotency=None)
    late = reservation("19:30", 4)  # overlaps 20:30-21:00 only
    with pytest.raises(SlotFull) as refused:
        store.reservations.add_reservation(late, capacity=8, idempotency=None)
    assert (refused.value.party_size, refused.value.starts_at) == (4, late.starts_at)
    assert store.reservations.get_reservation("chez-test", late.id) is None
    held = store.reservations.covers_held(
        "chez-test", local(WEDNESDAY, "19:00"), local(WEDNESDAY, "22:30")
    )
    assert sum(held.values()) == 6 * 6  # nothing of the refused booking was written


def test_idempotency_records_are_claimed_once(store: Stores) -> None:
    first = reservation()
    claim = IdempotencyRecord("chez-test", digest("key"), "fp", first.id, NOW, NOW + timedelta(1))
    store.reservations.add_reservation(first, capacity=40, idempotency=claim)
    assert store.reservations.get_idempotency("chez-test", digest("key")) == claim
    second = reservation()
    retry = IdempotencyRecord("chez-test", digest("key"), "fp", second.id, NOW, NOW + timedelta(1))
    with pytest.raises(IdempotencyKeyTaken):
        store.reservations.add_reservation(second, capacity=40, idempotency=retry)
    assert store.reservations.get_reservation("chez-test", second.id) is None
    later = NOW + timedelta(days=2)
    expired_retry = IdempotencyRecord("chez-test", digest("key"), "fp2", second.id, later, later)
    store.reservations.add_reservation(second, capacity=40, idempotency=expired_retry)
    assert store.reservations.get_idempotency("chez-test", digest("key")) == expired_retry


def test_transitions_are_optimistic_and_release_covers(store: Stores) -> None:
    booked = reservation(party_size=5)
    store.reservations.add_reservation(booked, capacity=8, idempotency=None)
    accepted = booked.moved_to(Status.ACCEPTED, now=NOW)
    store.reservations.save_transition(booked, accepted)
    with pytest.raises(ConcurrentUpdate):
        store.reservations.save_transition(booked, booked.moved_to(Status.DECLINED, now=NOW))
    cancelled = accepted.moved_to(Status.CANCELLED, now=NOW, cancelled_by="guest")
    store.reservations.save_transition(accepted, cancelled)
    assert store.reservations.get_reservation("chez-test", booked.id) == cancelled
    held = store.reservations.covers_held("chez-test", booked.starts_at, booked.ends_at)
    assert set(held.values()) == {0}


def test_day_sheet_is_per_local_day_and_sorted(store: Stores) -> None:
    late, early = reservation("21:00"), reservation("12:00")
    other_restaurant = reservation("19:00", restaurant_id="elsewhere")
    for r in (late, early, other_restaurant):
        store.reservations.add_reservation(r, capacity=40, idempotency=None)
    assert [r.id for r in store.reservations.reservations_on("chez-test", WEDNESDAY)] == [
        early.id,
        late.id,
    ]
    assert store.reservations.reservations_on("chez-test", WEDNESDAY + timedelta(days=1)) == []


def test_staff_tokens_are_found_by_digest_listed_and_revoked(store: Stores) -> None:
    token = StaffToken(new_id(), "chez-test", "front desk", digest("stf_x"), datetime.now(UTC))
    store.staff_tokens.add_staff_token(token)
    assert store.staff_tokens.find_staff_token(digest("stf_x")) == token
    assert store.staff_tokens.staff_tokens("chez-test") == [token]
    assert store.staff_tokens.staff_tokens("elsewhere") == []
    store.staff_tokens.revoke_staff_token("chez-test", token.token_id)
    assert store.staff_tokens.find_staff_token(digest("stf_x")) is None
    with pytest.raises(NotFound):
        store.staff_tokens.revoke_staff_token("chez-test", token.token_id)


def quota(kind: str, subject: str, limit: int, day_offset: int = 0) -> RequestQuota:
    day = NOW.astimezone(PARIS).date() + timedelta(days=day_offset)
    return RequestQuota("chez-test", kind, digest(subject), day, limit, NOW + timedelta(days=2))


def test_a_booking_counts_in_its_quotas_atomically_up_to_each_limit(store: Stores) -> None:
    client, email = quota("client", "198.51.100.7", 3), quota("email", "ada@example.com", 2)
    store.reservations.add_reservation(reservation("19:00"), capacity=40, idempotency=None,
                                       quotas=[client, email])  # fmt: skip
    store.reservations.add_reservation(reservation("19:15"), capacity=40, idempotency=None,
                                       quotas=[client, email])  # fmt: skip
    refused = reservation("19:30")
    with pytest.raises(QuotaExceeded) as exceeded:
        store.reservations.add_reservation(
            refused, capacity=40, idempotency=None, quotas=[client, email]
        )
    assert exceeded.value.kind == "email"
    # all or nothing: the refused booking neither stored nor held covers nor counted
    assert store.reservations.get_reservation("chez-test", refused.id) is None
    assert store.reservations.covers_held(
        "chez-test", local(WEDNESDAY, "19:30"), local(WEDNESDAY, "19:45")
    ) == {local(WEDNESDAY, "19:30").astimezone(UTC): 8}
    other = quota("email", "grace@example.com", 2)
    store.reservations.add_reservation(reservation("20:00"), capacity=40, idempotency=None,
                                       quotas=[client, other])  # fmt: skip
    with pytest.raises(QuotaExceeded) as exceeded:
        store.reservations.add_reservation(
            reservation("20:15"), capacity=40, idempotency=None, quotas=[client, other]
        )
    assert exceeded.value.kind == "client"
    # another day, another count
    tomorrow = quota("client", "198.51.100.7", 3, day_offset=1)
    store.reservations.add_reservation(reservation("20:30"), capacity=40, idempotency=None,
                                       quotas=[tomorrow])  # fmt: skip


def test_a_full_slot_refuses_without_counting(store: Stores) -> None:
    email = quota("email", "ada@example.com", 1)
    store.reservations.add_reservation(reservation("19:00", 8), capacity=8, idempotency=None)
    with pytest.raises(SlotFull):
        store.reservations.add_reservation(
            reservation("19:30"), capacity=8, idempotency=None, quotas=[email]
        )
    store.reservations.add_reservation(reservation("21:00"), capacity=8, idempotency=None,
                                       quotas=[email])  # fmt: skip
