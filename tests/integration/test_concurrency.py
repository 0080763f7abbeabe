"""No overbooking under concurrent requests: threads race for the last covers against moto.

moto's DynamoDB requests are made atomic (localdev.emulator.serialize_dynamodb_requests), as
each DynamoDB request is in AWS; the race under test is this service's read-check-write.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from chalicelib.domain.booking_rules import occupied_cells
from chalicelib.domain.errors import SlotFull
from chalicelib.domain.reservations import RequestReservation
from chalicelib.domain.tokens import ManageTokens
from chalicelib.services.booking import ReservationDesk, RestaurantAdmin
from chalicelib.services.ports import Stores
from tests.builders import Clock, booking, local, next_weekday, restaurant_spec

THREADS = 40


def race(desk: ReservationDesk, requests: list[RequestReservation]) -> Counter[str]:
    barrier = threading.Barrier(len(requests))

    def attempt(request: RequestReservation) -> str:
        barrier.wait()
        try:
            desk.request("race-bistro", request)
        except SlotFull:
            return "full"
        return "booked"

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return Counter(pool.map(attempt, requests))


def assert_counters_match_reservations(store: Stores) -> None:
    """Each cell's counter equals the covers of the live reservations on it, and <= capacity."""
    wednesday = next_weekday(Clock().now, 2)
    live = [
        r for r in store.reservations.reservations_on("race-bistro", wednesday) if r.holds_covers
    ]
    expected: Counter[object] = Counter()
    for r in live:
        for cell in occupied_cells(r.starts_at, r.dining_minutes):
            expected[cell] += r.party_size
    held = store.reservations.covers_held(
        "race-bistro", local(wednesday, "00:00"), local(wednesday, "00:00") + timedelta(days=1)
    )
    assert {c: n for c, n in held.items() if n} == dict(expected)
    assert max(held.values()) <= 40


@pytest.fixture
def desk(dynamo_stores: Stores) -> ReservationDesk:
    """The real service on the DynamoDB store, with a 40-cover restaurant."""
    clock = Clock()
    RestaurantAdmin(dynamo_stores.restaurants, dynamo_stores.staff_tokens, clock).create(
        restaurant_spec("race-bistro", capacity=40)
    )
    return ReservationDesk(
        dynamo_stores.restaurants, dynamo_stores.reservations, ManageTokens("k" * 32), clock
    )


@pytest.mark.slow
def test_forty_threads_race_for_the_last_four_covers(
    desk: ReservationDesk, dynamo_stores: Stores
) -> None:
    wednesday = next_weekday(Clock().now, 2)
    for _ in range(4):
        desk.request("race-bistro", booking(local(wednesday, "19:30"), party_size=8))
    desk.request("race-bistro", booking(local(wednesday, "19:30"), party_size=4))  # 36 of 40

    outcome = race(desk, [booking(local(wednesday, "19:30"), party_size=2)] * THREADS)

    assert outcome == Counter({"booked": 2, "full": THREADS - 2})
    assert_counters_match_reservations(dynamo_stores)


@pytest.mark.slow
def test_overlapping_seatings_race_without_overbooking(
    desk: ReservationDesk, dynamo_stores: Stores
) -> None:
    wednesday = next_weekday(Clock().now, 2)
    starts = ["19:00", "19:15", "19:30", "19:45", "20:00", "20:15", "20:30", "20:45"]
    requests = [booking(local(wednesday, starts[i % 8]), party_size=7) for i in range(THREADS)]

    outcome = race(desk, requests)

    assert outcome["booked"] >= 5  # at least the first 35 covers fit wherever they land
    assert outcome["booked"] + outcome["full"] == THREADS
    assert_counters_match_reservations(dynamo_stores)
