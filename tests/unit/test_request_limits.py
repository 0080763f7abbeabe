"""No capacity hoarding: a restaurant's daily limits on booking requests from one client
address and for one guest email, on the in-memory stores (the store contract holds the
DynamoDB store to the same)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.errors import TooManyRequests
from chalicelib.services.booking import ReservationDesk
from tests.builders import NOW, PARIS, Clock, booking, local, next_weekday, restaurant_spec
from tests.fakes import InMemoryStores

WEDNESDAY = next_weekday(NOW, 2)
# NOW is 09:00 in Paris: the restaurant's next midnight is 15 hours away.
UNTIL_MIDNIGHT = 15 * 3600


@pytest.fixture
def store() -> InMemoryStores:
    store = InMemoryStores()
    spec = restaurant_spec(max_requests_per_client_per_day=5, max_requests_per_email_per_day=2)
    store.admin(Clock()).create(spec)
    return store


def request_as(email: str, hhmm: str = "19:30") -> object:
    return booking(local(WEDNESDAY, hhmm), guest={"name": "Ada", "email": email})


def test_the_defaults_are_twenty_a_client_and_three_an_email() -> None:
    spec = restaurant_spec().model_dump()
    del spec["max_requests_per_client_per_day"], spec["max_requests_per_email_per_day"]
    defaults = type(restaurant_spec()).model_validate(spec)
    assert defaults.max_requests_per_client_per_day == 20
    assert defaults.max_requests_per_email_per_day == 3


def test_an_email_past_its_daily_limit_is_refused_until_midnight(desk: ReservationDesk) -> None:
    for hhmm in ("19:00", "19:30"):
        desk.request("chez-test", request_as("ada@example.com", hhmm))  # type: ignore[arg-type]
    with pytest.raises(TooManyRequests) as refused:
        desk.request("chez-test", request_as("ADA@Example.com"))  # type: ignore[arg-type]
    assert (refused.value.kind, refused.value.field) == ("email", "guest.email")
    assert refused.value.code == "too_many_requests"
    assert refused.value.retry_after_seconds == UNTIL_MIDNIGHT
    desk.request("chez-test", request_as("grace@example.com"))  # type: ignore[arg-type]


def test_a_client_past_its_limit_is_refused_while_other_clients_book(
    desk: ReservationDesk, store: InMemoryStores
) -> None:
    for n in range(5):
        desk.request("chez-test", request_as(f"g{n}@example.com"), None, "198.51.100.7")  # type: ignore[arg-type]
    with pytest.raises(TooManyRequests) as refused:
        desk.request("chez-test", request_as("g9@example.com"), None, "198.51.100.7")  # type: ignore[arg-type]
    assert (refused.value.kind, refused.value.field) == ("client", None)
    booked = desk.request("chez-test", request_as("h@example.com"), None, "203.0.113.9")  # type: ignore[arg-type]
    assert not booked.replayed
    # refused requests hold nothing: 6 bookings of 2 covers at 19:30
    assert store.reservations.covers[("chez-test")][local(WEDNESDAY, "19:30").astimezone(UTC)] == 12


def test_an_idempotency_key_replay_counts_once(desk: ReservationDesk) -> None:
    first = desk.request("chez-test", request_as("ada@example.com"), "key-1")  # type: ignore[arg-type]
    for _ in range(5):
        again = desk.request("chez-test", request_as("ada@example.com"), "key-1")  # type: ignore[arg-type]
        assert again.replayed and again.reservation.id == first.reservation.id
    desk.request("chez-test", request_as("ada@example.com", "20:00"), "key-2")  # type: ignore[arg-type]
    with pytest.raises(TooManyRequests):
        desk.request("chez-test", request_as("ada@example.com", "20:30"), "key-3")  # type: ignore[arg-type]


def test_the_count_restarts_at_the_restaurants_midnight(
    desk: ReservationDesk, clock: Clock
) -> None:
    for hhmm in ("19:00", "19:30"):
        desk.request("chez-test", request_as("ada@example.com", hhmm))  # type: ignore[arg-type]
    clock.now = datetime(2026, 3, 2, 23, 59, 30, tzinfo=PARIS).astimezone(UTC)
    with pytest.raises(TooManyRequests) as refused:
        desk.request("chez-test", request_as("ada@example.com", "20:00"))  # type: ignore[arg-type]
    assert refused.value.retry_after_seconds == 30
    clock.advance(seconds=30)
    desk.request("chez-test", request_as("ada@example.com", "20:00"))  # type: ignore[arg-type]


def test_retry_after_counts_real_seconds_across_a_change_of_clocks(
    desk: ReservationDesk, clock: Clock
) -> None:
    # Paris moves to summer time on 2026-03-29 at 02:00: that day is 23 hours long, and
    # from 01:00 to its midnight is 22 hours, not the 23 the wall clock shows.
    clock.now = datetime(2026, 3, 29, 1, 0, tzinfo=PARIS).astimezone(UTC)
    later = next_weekday(clock.now, 2)

    def request() -> object:
        return booking(local(later, "19:00"), guest={"name": "Ada", "email": "ada@example.com"})

    for _ in range(2):
        desk.request("chez-test", request())  # type: ignore[arg-type]
    with pytest.raises(TooManyRequests) as refused:
        desk.request("chez-test", request())  # type: ignore[arg-type]
    assert refused.value.retry_after_seconds == int(timedelta(hours=22).total_seconds())


def test_the_counters_store_digests_not_addresses_or_emails(
    desk: ReservationDesk, store: InMemoryStores
) -> None:
    desk.request("chez-test", request_as("ada@example.com"), None, "198.51.100.7")  # type: ignore[arg-type]
    kept = repr(store.reservations.quotas)
    assert "ada@example.com" not in kept and "198.51.100.7" not in kept
    assert sorted(k[1] for k in store.reservations.quotas) == ["client", "email"]
