"""Every request-time validation rule, through the service, against the in-memory store."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain.errors import Invalid, NotFound, SlotFull
from chalicelib.services.booking import ReservationDesk
from tests.builders import NOW, PARIS, Clock, booking, local, next_weekday, restaurant_spec
from tests.fakes import InMemoryStores

WEDNESDAY = next_weekday(NOW, 2)
TUESDAY = next_weekday(NOW, 1)


@pytest.fixture
def store() -> InMemoryStores:
    store = InMemoryStores()
    store.admin(Clock()).create(restaurant_spec())
    return store


@pytest.fixture
def desk(store: InMemoryStores) -> ReservationDesk:
    return store.desk(Clock())


def rejected(desk: ReservationDesk, request: object) -> Invalid:
    with pytest.raises(Invalid) as caught:
        desk.request("chez-test", request)  # type: ignore[arg-type]
    return caught.value


def test_a_valid_request_is_stored_pending_with_offset_and_utc(
    desk: ReservationDesk, store: InMemoryStores
) -> None:
    booked = desk.request("chez-test", booking(local(WEDNESDAY, "19:30")))
    stored = store.reservations.stored[("chez-test", booked.reservation.id)]
    assert stored.status == "PENDING"
    assert stored.starts_at.isoformat() == f"{WEDNESDAY}T19:30:00+01:00"
    assert stored.public()["starts_at_utc"] == f"{WEDNESDAY}T18:30:00Z"
    assert stored.ends_at - stored.starts_at == timedelta(minutes=90)


def test_a_time_without_offset_is_read_in_the_restaurants_timezone(desk: ReservationDesk) -> None:
    booked = desk.request("chez-test", booking(f"{WEDNESDAY}T19:30"))
    assert booked.reservation.starts_at == local(WEDNESDAY, "19:30")


def test_an_offset_in_another_zone_is_the_same_instant(desk: ReservationDesk) -> None:
    booked = desk.request("chez-test", booking(f"{WEDNESDAY}T18:30:00Z"))
    assert booked.reservation.starts_at.isoformat() == f"{WEDNESDAY}T19:30:00+01:00"


def test_unknown_restaurant_is_not_found(desk: ReservationDesk) -> None:
    with pytest.raises(NotFound):
        desk.request("nowhere", booking(local(WEDNESDAY, "19:30")))


@pytest.mark.parametrize("party_size", [0, 9])
def test_party_size_outside_the_restaurants_bounds(desk: ReservationDesk, party_size: int) -> None:
    request = booking(local(WEDNESDAY, "19:30"), party_size=max(party_size, 1))
    request = request.model_copy(update={"party_size": party_size})
    error = rejected(desk, request)
    assert (error.code, error.field) == ("party_size_out_of_range", "party_size")
    assert "between 1 and 8" in error.message


def test_in_the_past(desk: ReservationDesk) -> None:
    error = rejected(desk, booking(NOW - timedelta(days=1)))
    assert (error.code, error.field) == ("in_the_past", "starts_at")


def test_inside_the_minimum_lead_time(store: InMemoryStores) -> None:
    lunch_today = local(NOW.astimezone(PARIS).date(), "12:00")
    clock = Clock(lunch_today - timedelta(minutes=30))
    error = rejected(store.desk(clock), booking(lunch_today))
    assert (error.code, error.field) == ("too_soon", "starts_at")
    assert "60 minutes" in error.message


def test_beyond_the_booking_window(desk: ReservationDesk) -> None:
    far = next_weekday(NOW + timedelta(days=60), 2)
    error = rejected(desk, booking(local(far, "19:30")))
    assert (error.code, error.field) == ("too_far_ahead", "starts_at")


def test_closed_weekday(desk: ReservationDesk) -> None:
    error = rejected(desk, booking(local(TUESDAY, "19:30")))
    assert (error.code, error.field) == ("closed", "starts_at")


def test_closed_date(store: InMemoryStores) -> None:
    store.admin(Clock()).create(restaurant_spec("holiday", closed_dates=[WEDNESDAY.isoformat()]))
    desk = store.desk(Clock())
    with pytest.raises(Invalid) as caught:
        desk.request("holiday", booking(local(WEDNESDAY, "19:30")))
    assert caught.value.code == "closed"


def test_outside_opening_hours(desk: ReservationDesk) -> None:
    error = rejected(desk, booking(local(WEDNESDAY, "16:00")))
    assert (error.code, error.field) == ("outside_opening_hours", "starts_at")
    assert "12:00-14:30, 19:00-22:30" in error.message


def test_not_on_a_slot_boundary(desk: ReservationDesk) -> None:
    error = rejected(desk, booking(local(WEDNESDAY, "19:20")))
    assert (error.code, error.field) == ("not_on_slot", "starts_at")


def test_seconds_are_not_a_slot_boundary(desk: ReservationDesk) -> None:
    error = rejected(desk, booking(f"{WEDNESDAY}T19:30:05"))
    assert error.code == "not_on_slot"


def test_after_the_last_seating(desk: ReservationDesk) -> None:
    error = rejected(desk, booking(local(WEDNESDAY, "21:15")))
    assert (error.code, error.field) == ("after_last_seating", "starts_at")
    assert "last seating for 19:00-22:30 is 21:00" in error.message


def test_the_last_seating_itself_is_accepted(desk: ReservationDesk) -> None:
    assert desk.request("chez-test", booking(local(WEDNESDAY, "21:00"))).reservation.id


def test_a_wall_clock_time_skipped_by_daylight_saving(store: InMemoryStores) -> None:
    store.admin(Clock()).create(
        restaurant_spec(
            "night-owl",
            opening_hours={"sunday": [{"opens": "00:00", "closes": "06:00"}]},
            dining_minutes=60,
        )
    )
    desk = store.desk(Clock())
    with pytest.raises(Invalid) as caught:  # 2026-03-29: Paris jumps from 02:00 to 03:00
        desk.request("night-owl", booking("2026-03-29T02:30"))
    assert (caught.value.code, caught.value.field) == ("nonexistent_local_time", "starts_at")


def test_capacity_is_never_exceeded(desk: ReservationDesk, store: InMemoryStores) -> None:
    for _ in range(5):
        desk.request("chez-test", booking(local(WEDNESDAY, "19:30"), party_size=8))
    with pytest.raises(SlotFull) as caught:
        desk.request("chez-test", booking(local(WEDNESDAY, "20:00"), party_size=1))
    assert caught.value.field == "starts_at"
    assert max(store.reservations.covers["chez-test"].values()) == 40
    assert len(store.reservations.stored) == 5


def test_capacity_counts_overlap_not_just_the_same_start(desk: ReservationDesk) -> None:
    for _ in range(5):
        desk.request("chez-test", booking(local(WEDNESDAY, "19:00"), party_size=8))
    # 20:30 starts exactly when the 19:00 seatings end: free again.
    assert desk.request("chez-test", booking(local(WEDNESDAY, "20:30"), party_size=8))
    with pytest.raises(SlotFull):
        desk.request("chez-test", booking(local(WEDNESDAY, "20:15"), party_size=1))


def test_a_rejected_request_writes_nothing(desk: ReservationDesk, store: InMemoryStores) -> None:
    rejected(desk, booking(local(WEDNESDAY, "19:20")))
    assert store.reservations.stored == {}
    assert store.reservations.covers["chez-test"] == {}
