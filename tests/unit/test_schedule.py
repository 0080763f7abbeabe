"""Restaurant settings validation and the seating/grid arithmetic."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from chalicelib.domain.booking_rules import occupied_cells, seatings
from tests.builders import restaurant_spec


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown IANA timezone"),
        ({"slot_minutes": 20}, "multiple of 15"),
        ({"opening_hours": {"monday": [{"opens": "12:10", "closes": "14:00"}]}}, "quarter hour"),
        ({"opening_hours": {"monday": [{"opens": "14:00", "closes": "12:00"}]}}, "must be after"),
        (
            {
                "opening_hours": {
                    "monday": [
                        {"opens": "12:00", "closes": "15:00"},
                        {"opens": "14:00", "closes": "16:00"},
                    ]
                }
            },
            "overlaps",
        ),
        ({"min_party_size": 5, "max_party_size": 4}, "min_party_size"),
        ({"max_party_size": 50}, "must not exceed capacity"),
        ({"staff_emails": []}, "at least 1"),
        ({"staff_emails": ["not-an-email"]}, "email"),
        ({"dining_minutes": 481}, "less than or equal to 480"),
        ({"capacity": "40"}, "valid integer"),
        ({"id": "Bad Slug!"}, "pattern"),
        ({"surprise": 1}, "Extra inputs"),
        ({"address": ""}, "at least 1 character"),
        ({"address": "x" * 201}, "at most 200 characters"),
        ({"address": "12 rue X\n75009 Paris"}, "control characters"),
        ({"phone": "01 42 00 00 00"}, "E.164"),
        ({"locale": "de"}, "'en' or 'fr'"),
        ({"contact_email": "not-an-email"}, "email"),
    ],
)
def test_invalid_settings_are_rejected(override: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        restaurant_spec(**override)


def test_contact_settings_are_optional_and_normalised() -> None:
    plain = restaurant_spec()
    assert (plain.address, plain.phone, plain.locale, plain.contact_email) == (
        None,
        None,
        "en",
        None,
    )
    assert plain.reply_address == "staff@chez-test.example"  # the first staff address
    given = restaurant_spec(
        address=" 12 rue des Martyrs, 75009 Paris ",
        phone="+33 1 42 00 00 00",
        locale="fr",
        contact_email="bonjour@chez-test.example",
    )
    assert given.address == "12 rue des Martyrs, 75009 Paris"
    assert given.phone == "+33142000000"
    assert given.reply_address == "bonjour@chez-test.example"


def test_seatings_follow_the_last_seating_rule() -> None:
    wednesday = date(2026, 3, 4)
    times = [s.strftime("%H:%M") for s in seatings(restaurant_spec(), wednesday)]
    assert times[0] == "12:00"
    assert "13:00" in times and "13:15" not in times  # 14:30 close - 90 min
    assert times[-1] == "21:00"  # 22:30 close - 90 min
    assert len(times) == 5 + 9


def test_closed_day_has_no_seatings() -> None:
    assert seatings(restaurant_spec(), date(2026, 3, 3)) == []  # a Tuesday


def test_occupied_cells_cover_the_dining_duration() -> None:
    start = datetime(2026, 3, 4, 18, 30, tzinfo=UTC)
    cells = occupied_cells(start, 90)
    assert [c.strftime("%H:%M") for c in cells] == [
        "18:30",
        "18:45",
        "19:00",
        "19:15",
        "19:30",
        "19:45",
    ]
    assert len(occupied_cells(start, 100)) == 7  # a partial cell still counts


def test_occupied_cells_refuse_a_start_off_the_grid() -> None:
    with pytest.raises(ValueError, match="grid"):
        occupied_cells(datetime(2026, 3, 4, 18, 31, tzinfo=UTC), 90)
