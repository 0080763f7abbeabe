"""Small builders and a controllable clock for tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.domain.ids import new_id
from chalicelib.domain.reservations import RequestReservation, Reservation
from chalicelib.domain.restaurants import NewRestaurant

PARIS = ZoneInfo("Europe/Paris")
# A Monday morning in Paris; every relative date in the unit tests counts from here.
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=PARIS).astimezone(UTC)


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def restaurant_spec(restaurant_id: str = "chez-test", **overrides: Any) -> NewRestaurant:
    """Open every day 12:00-14:30 and 19:00-22:30 except Tuesdays; like the demo bistro."""
    periods = [{"opens": "12:00", "closes": "14:30"}, {"opens": "19:00", "closes": "22:30"}]
    days = ("monday", "wednesday", "thursday", "friday", "saturday", "sunday")
    spec: dict[str, Any] = {
        "id": restaurant_id,
        "name": "Chez Test",
        "timezone": "Europe/Paris",
        "staff_emails": ["staff@chez-test.example"],
        "opening_hours": dict.fromkeys(days, periods),
        "slot_minutes": 15,
        "dining_minutes": 90,
        "capacity": 40,
        "min_party_size": 1,
        "max_party_size": 8,
        "min_lead_minutes": 60,
        "max_days_ahead": 60,
        # The tests book many tables with one guest email from one address; the tests of the
        # daily limits set their own (tests/unit/test_request_limits.py).
        "max_requests_per_client_per_day": 10_000,
        "max_requests_per_email_per_day": 10_000,
    }
    spec.update(overrides)
    return NewRestaurant.model_validate(spec)


def local(day: date, hhmm: str) -> datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return datetime.combine(day, time(hours, minutes), tzinfo=PARIS)


def booking(starts_at: str | datetime, party_size: int = 2, **overrides: Any) -> RequestReservation:
    when = starts_at if isinstance(starts_at, str) else starts_at.isoformat()
    body: dict[str, Any] = {
        "guest": {"name": "Ada Lovelace", "email": "ada@example.com", "phone": "+33612345678"},
        "party_size": party_size,
        "starts_at": when,
    }
    body.update(overrides)
    return RequestReservation.model_validate(body)


def next_weekday(start: datetime, weekday: int, weeks: int = 0) -> date:
    """The first date after `start` (local) falling on `weekday` (0 = Monday)."""
    day = start.astimezone(PARIS).date() + timedelta(days=1)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day + timedelta(weeks=weeks)


def stored_reservation(
    hhmm: str = "19:30",
    party_size: int = 4,
    restaurant_id: str = "chez-test",
    notes: str | None = "window seat, please",
) -> Reservation:
    """A PENDING reservation as the store holds it, next Wednesday after NOW (Paris)."""
    starts_at = local(next_weekday(NOW, 2), hhmm)
    return Reservation(
        id=new_id(),
        restaurant_id=restaurant_id,
        guest=booking(starts_at).guest,
        party_size=party_size,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=90),
        timezone="Europe/Paris",
        notes=notes,
        created_at=NOW,
        updated_at=NOW,
        manage_token_hash="f" * 64,
    )
