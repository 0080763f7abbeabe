"""What a restaurant's settings mean for a booking: which times are seatings (last seating
rule, daylight-saving gaps), which requests are allowed (party size, booking window, on a
slot), and which capacity grid cells a seating holds.

Every seating starts on the 15-minute grid, so the covers seated at any instant equal the
covers held on the grid cell containing it (see `occupied_cells`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from chalicelib.domain.errors import Invalid
from chalicelib.domain.restaurants import GRID_MINUTES, OpeningRange, RestaurantSettings, hhmm


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
