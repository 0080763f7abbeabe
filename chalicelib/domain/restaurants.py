"""Restaurants: the settings an administrator gives (opening hours, slots, capacity, booking
window) and their validation. What those settings mean for a booking: `booking_rules`.

Times of day are wall-clock times in the restaurant's IANA timezone. Capacity is counted on a
fixed 15-minute grid (`GRID_MINUTES`): slot lengths and opening times are multiples of it.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

from chalicelib.domain.contact import Language, e164, no_control_characters

GRID_MINUTES = 15
# A booking is one DynamoDB transaction: the reservation, its idempotency record and one
# counter per grid cell it occupies must stay under the 100-item transaction limit.
MAX_DINING_MINUTES = 8 * 60

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[Weekday, ...] = get_args(Weekday)

_SLUG = r"^[a-z0-9](?:[a-z0-9-]{1,62}[a-z0-9])$"
_HHMM = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


def is_slug(text: str) -> bool:
    """True when `text` could be a restaurant id (cheap guard before a lookup)."""
    return re.match(_SLUG, text) is not None


def minutes_of(hhmm: str) -> int:
    """'19:30' -> 1170. '24:00' is allowed as a closing time."""
    match = _HHMM.match(hhmm)
    if not match:
        raise ValueError(f"{hhmm!r} is not a time of day as HH:MM")
    minutes = int(match.group(1)) * 60 + int(match.group(2))
    if minutes > 24 * 60:
        raise ValueError(f"{hhmm!r} is past midnight")
    return minutes


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


class OpeningRange(BaseModel):
    """One service period of a day, e.g. lunch 12:00-14:30."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    opens: str
    closes: str

    @field_validator("opens", "closes")
    @classmethod
    def _on_grid(cls, value: str) -> str:
        if minutes_of(value) % GRID_MINUTES:
            raise ValueError(f"times must be on a quarter hour (:00, :15, :30, :45), got {value}")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> OpeningRange:
        if self.closes_minute <= self.opens_minute:
            raise ValueError(f"closes ({self.closes}) must be after opens ({self.opens})")
        return self

    @property
    def opens_minute(self) -> int:
        return minutes_of(self.opens)

    @property
    def closes_minute(self) -> int:
        return minutes_of(self.closes)


class RestaurantSettings(BaseModel):
    """What an administrator sets for a restaurant (body of POST and PUT)."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, Field(min_length=1, max_length=100)]
    timezone: str
    staff_emails: Annotated[list[EmailStr], Field(min_length=1, max_length=20)]
    opening_hours: dict[Weekday, Annotated[list[OpeningRange], Field(max_length=6)]]
    closed_dates: Annotated[list[date], Field(max_length=366)] = []
    slot_minutes: Annotated[int, Field(strict=True, ge=GRID_MINUTES, le=240)] = 15
    dining_minutes: Annotated[int, Field(strict=True, ge=15, le=MAX_DINING_MINUTES)] = 90
    capacity: Annotated[int, Field(strict=True, ge=1, le=10_000)]
    min_party_size: Annotated[int, Field(strict=True, ge=1)] = 1
    max_party_size: Annotated[int, Field(strict=True, ge=1)] = 8
    min_lead_minutes: Annotated[int, Field(strict=True, ge=0, le=30 * 24 * 60)] = 60
    max_days_ahead: Annotated[int, Field(strict=True, ge=1, le=365)] = 60
    # Staff answer a request within this many hours (and before its seating), or it is
    # declined with "no answer in time".
    response_deadline_hours: Annotated[int, Field(strict=True, ge=1, le=168)] = 24
    # What every email names, and what the guest's calendar invite shows as the place.
    address: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    phone: str | None = None
    # The language of staff emails, and of guests' emails unless a guest chose one.
    locale: Language = "en"
    # Where guests' replies go; None: the first staff address.
    contact_email: EmailStr | None = None
    # No capacity hoarding: booking requests a day (the restaurant's local day of the request)
    # from one client address and for one guest email; more are refused with 429.
    max_requests_per_client_per_day: Annotated[int, Field(strict=True, ge=1, le=100_000)] = 20
    max_requests_per_email_per_day: Annotated[int, Field(strict=True, ge=1, le=100_000)] = 3

    @field_validator("name")
    @classmethod
    def _one_line_name(cls, value: str) -> str:
        return no_control_characters(value, allow_newlines=False)

    @field_validator("address")
    @classmethod
    def _one_line_address(cls, value: str | None) -> str | None:
        return None if value is None else no_control_characters(value, allow_newlines=False)

    @field_validator("phone")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        return None if value is None else e164(value)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA timezone {value!r} (e.g. 'Europe/Paris')") from None
        return value

    @field_validator("slot_minutes")
    @classmethod
    def _slot_on_grid(cls, value: int) -> int:
        if value % GRID_MINUTES:
            raise ValueError(f"slot_minutes must be a multiple of {GRID_MINUTES}")
        return value

    @field_validator("opening_hours")
    @classmethod
    def _ranges_do_not_overlap(
        cls, value: dict[Weekday, list[OpeningRange]]
    ) -> dict[Weekday, list[OpeningRange]]:
        for day, ranges in value.items():
            ordered = sorted(ranges, key=lambda r: r.opens_minute)
            for before, after in zip(ordered, ordered[1:], strict=False):
                if after.opens_minute < before.closes_minute:
                    raise ValueError(
                        f"{day}: {before.opens}-{before.closes} overlaps {after.opens}"
                    )
            value[day] = ordered
        return value

    @model_validator(mode="after")
    def _party_sizes(self) -> RestaurantSettings:
        if self.min_party_size > self.max_party_size:
            raise ValueError("min_party_size must not exceed max_party_size")
        if self.max_party_size > self.capacity:
            raise ValueError("max_party_size must not exceed capacity")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def reply_address(self) -> str:
        """Where guests' replies go: the contact address, else the first staff address."""
        return str(self.contact_email or self.staff_emails[0])

    def ranges_on(self, day: date) -> list[OpeningRange]:
        """The service periods on a local date; empty when closed."""
        if day in self.closed_dates:
            return []
        return self.opening_hours.get(WEEKDAYS[day.weekday()], [])


class NewRestaurant(RestaurantSettings):
    """POST /restaurants body: the settings plus the restaurant's chosen slug."""

    id: Annotated[str, Field(pattern=_SLUG)]


class Restaurant(RestaurantSettings):
    """A stored restaurant."""

    id: str
    version: int
    created_at: datetime
    updated_at: datetime

    @field_validator("name")
    @classmethod
    def _one_line_name(cls, value: str) -> str:
        return value  # checked when set; a name stored before the check still loads

    def public_profile(self) -> dict[str, Any]:
        """What guests may see: name, address, phone, locale and the booking settings; never
        staff contacts (the reply address may be one of them) nor bookkeeping."""
        return self.model_dump(
            mode="json",
            exclude={
                "staff_emails",
                "contact_email",
                "capacity",
                "max_requests_per_client_per_day",
                "max_requests_per_email_per_day",
                "version",
                "created_at",
                "updated_at",
            },
        )

    def admin_view(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
