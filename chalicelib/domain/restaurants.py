"""Restaurants and their booking rules: opening hours, slots, last seating, booking window.

Times of day are wall-clock times in the restaurant's IANA timezone. Capacity is counted on a
fixed 15-minute grid (`GRID_MINUTES`): slot lengths and opening times are multiples of it, so
every seating starts on the grid and the covers seated at any instant equal the covers held on
the grid cell containing it (see `occupied_cells`).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

from chalicelib.domain.errors import Invalid

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

    def public_profile(self) -> dict[str, Any]:
        """What guests may see: everything but staff contacts and bookkeeping."""
        return self.model_dump(
            mode="json", exclude={"staff_emails", "capacity", "version", "created_at", "updated_at"}
        )

    def admin_view(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


# --- booking rules -------------------------------------------------------------------------


def localize(starts_at: datetime, zone: ZoneInfo) -> datetime:
    """Read a time without offset in the restaurant's timezone; reject wall-clock times that do
    not exist there (the hour skipped when clocks go forward). Ambiguous times (clocks going
    back) take their first occurrence."""
    if starts_at.tzinfo is not None:
        return starts_at.astimezone(zone)
    aware = starts_at.replace(tzinfo=zone)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != starts_at:
        raise Invalid(
            f"{starts_at.isoformat()} does not exist in {zone.key} (clocks go forward then)",
            field="starts_at",
            code="nonexistent_local_time",
        )
    return aware


def seatings(restaurant: RestaurantSettings, day: date) -> list[datetime]:
    """Every seating time on a local date, as aware local datetimes, in order.

    Last seating rule: a seating must let the full dining duration end by the period's closing
    time, so the last seating of a period is `closes - dining_minutes` (rounded down to a slot).
    """
    zone = restaurant.zone
    starts: list[datetime] = []
    midnight = datetime(day.year, day.month, day.day)
    for period in restaurant.ranges_on(day):
        minute = period.opens_minute
        while minute + restaurant.dining_minutes <= period.closes_minute:
            wall = midnight + timedelta(minutes=minute)
            try:
                starts.append(localize(wall, zone))
            except Invalid:
                pass  # skipped by a daylight-saving jump
            minute += restaurant.slot_minutes
    return starts


def last_seating(restaurant: RestaurantSettings, period: OpeningRange) -> str:
    span = period.closes_minute - period.opens_minute - restaurant.dining_minutes
    if span < 0:
        return "none (the period is shorter than the dining duration)"
    return hhmm(period.opens_minute + span - span % restaurant.slot_minutes)


def check_party_size(restaurant: RestaurantSettings, party_size: int) -> None:
    if not restaurant.min_party_size <= party_size <= restaurant.max_party_size:
        raise Invalid(
            f"party_size must be between {restaurant.min_party_size} and "
            f"{restaurant.max_party_size} for this restaurant (got {party_size}); "
            "contact the restaurant for larger groups",
            field="party_size",
            code="party_size_out_of_range",
        )


def check_booking_window(
    restaurant: RestaurantSettings, starts_at: datetime, now: datetime
) -> None:
    """`starts_at` must be in the future, at least the lead time ahead, within max_days_ahead."""
    if starts_at <= now:
        raise Invalid("starts_at is in the past", field="starts_at", code="in_the_past")
    if starts_at < now + timedelta(minutes=restaurant.min_lead_minutes):
        raise Invalid(
            f"bookings close {restaurant.min_lead_minutes} minutes before the seating time",
            field="starts_at",
            code="too_soon",
        )
    if starts_at > now + timedelta(days=restaurant.max_days_ahead):
        raise Invalid(
            f"bookings open {restaurant.max_days_ahead} days ahead",
            field="starts_at",
            code="too_far_ahead",
        )


def check_seating(restaurant: RestaurantSettings, starts_at: datetime) -> None:
    """`starts_at` (aware) must be a seating: open day, inside a period, on a slot boundary,
    and no later than the period's last seating."""
    local = starts_at.astimezone(restaurant.zone)
    periods = restaurant.ranges_on(local.date())
    if not periods:
        raise Invalid(
            f"the restaurant is closed on {local.date().isoformat()}",
            field="starts_at",
            code="closed",
        )
    minute = local.hour * 60 + local.minute
    period = next((p for p in periods if p.opens_minute <= minute < p.closes_minute), None)
    hours = ", ".join(f"{p.opens}-{p.closes}" for p in periods)
    if period is None:
        raise Invalid(
            f"{local.strftime('%H:%M')} is outside opening hours ({hours})",
            field="starts_at",
            code="outside_opening_hours",
        )
    if (
        local.second
        or local.microsecond
        or (minute - period.opens_minute) % restaurant.slot_minutes
    ):
        raise Invalid(
            f"seatings start every {restaurant.slot_minutes} minutes from {period.opens}",
            field="starts_at",
            code="not_on_slot",
        )
    if minute + restaurant.dining_minutes > period.closes_minute:
        raise Invalid(
            f"last seating for {period.opens}-{period.closes} is {last_seating(restaurant, period)}"
            f" (meals last {restaurant.dining_minutes} minutes)",
            field="starts_at",
            code="after_last_seating",
        )


def occupied_cells(starts_at: datetime, dining_minutes: int) -> list[datetime]:
    """The UTC grid cells a seating holds: every cell that `[starts_at, starts_at + dining)`
    touches. Seatings start on the grid, so two seatings overlap exactly when they share a cell,
    and the covers held on a cell are the covers seated at that cell's first instant."""
    start = starts_at.astimezone(UTC)
    if start.minute % GRID_MINUTES or start.second or start.microsecond:
        raise ValueError(f"{start.isoformat()} is not on the {GRID_MINUTES}-minute grid")
    count = -(-dining_minutes // GRID_MINUTES)
    return [start + timedelta(minutes=GRID_MINUTES * i) for i in range(count)]
