"""The demo restaurant every local run starts with."""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.domain.ids import new_id
from chalicelib.domain.restaurants import NewRestaurant, OpeningRange
from chalicelib.domain.tokens import digest
from chalicelib.services.booking import RestaurantAdmin
from chalicelib.services.ports import StaffToken, Stores

DEMO_ID = "demo-bistro"


def demo_restaurant() -> NewRestaurant:
    service_periods = [
        OpeningRange(opens="12:00", closes="14:30"),
        OpeningRange(opens="19:00", closes="22:30"),
    ]
    days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    return NewRestaurant.model_validate(
        {
            "id": DEMO_ID,
            "name": "Demo Bistro",
            "timezone": "Europe/Paris",
            "staff_emails": ["staff@demo-bistro.example"],
            "opening_hours": dict.fromkeys(days, service_periods),
            "slot_minutes": 15,
            "dining_minutes": 90,
            "capacity": 40,
            "min_party_size": 1,
            "max_party_size": 8,
            "min_lead_minutes": 60,
            "max_days_ahead": 60,
        }
    )


def demo_seating_times() -> list[str]:
    """Every seating of a demo-bistro day, "HH:MM" (the same every day of the week)."""
    from datetime import date

    from chalicelib.domain.booking_rules import seatings

    return [start.strftime("%H:%M") for start in seatings(demo_restaurant(), date(2026, 6, 1))]


def seed_demo(stores: Stores, staff_token: str) -> None:
    """Create demo-bistro and a staff token for it whose secret is `staff_token`."""
    RestaurantAdmin(stores.restaurants, stores.staff_tokens).create(demo_restaurant())
    stores.staff_tokens.add_staff_token(
        StaffToken(
            token_id=new_id(),
            restaurant_id=DEMO_ID,
            label="demo front desk",
            token_digest=digest(staff_token),
            created_at=datetime.now(UTC),
        )
    )
