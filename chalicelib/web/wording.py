"""Domain errors in words. The domain and the store raise errors that carry data (which
reservation, which party size at which time); this is the one place that words them for the
API's `message` and for the pages people open from their email."""

from __future__ import annotations

from chalicelib.domain.errors import (
    AlreadyExists,
    DomainError,
    InvalidTransition,
    NotFound,
    SlotFull,
    TooManyRequests,
)


def message_for(error: DomainError) -> str:
    if isinstance(error, SlotFull):
        local = error.starts_at.strftime("%Y-%m-%d %H:%M")
        return (
            f"no table for {error.party_size} at {local}: that time is fully booked; "
            "check availability for another time"
        )
    if isinstance(error, TooManyRequests):
        who = "this guest email" if error.kind == "email" else "this client address"
        return (
            f"too many booking requests today for {who} at this restaurant; "
            f"retry after {error.retry_after_seconds} seconds (the restaurant's midnight)"
        )
    if isinstance(error, InvalidTransition):
        return f"reservation is {error.current} and cannot become {error.requested}"
    if isinstance(error, NotFound):
        return f"no {error.kind} {error.key!r}"
    if isinstance(error, AlreadyExists):
        return f"{error.kind} {error.key!r} already exists"
    return error.message
