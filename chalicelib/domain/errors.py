"""Domain errors. Each names the request field it is about, so the API can point at it.

Errors about things (a missing item, a full slot, a refused status change) carry their data;
the web layer words them for people (`web.wording`). The HTTP layer maps the families
(NotFound, Invalid, Conflict, Unauthenticated, Forbidden) to status codes in one table; the
domain never knows about HTTP.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

T = TypeVar("T")


class DomainError(Exception):
    """Base of every error a caller can cause; `code` is stable, `message` is for people."""

    code = "domain_error"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code


class NotFound(DomainError):
    """No `kind` (e.g. "reservation") with id `key`."""

    code = "not_found"

    def __init__(self, kind: str, key: str, *, field: str) -> None:
        super().__init__(f"no {kind} {key!r}", field=field)
        self.kind, self.key = kind, key


class Invalid(DomainError):
    """The request is well-formed but breaks a booking rule (422)."""

    code = "invalid"


class Conflict(DomainError):
    """The request clashes with the current state (409)."""

    code = "conflict"


class SlotFull(Conflict):
    """A grid cell the reservation would occupy has no room left for `party_size`."""

    code = "slot_full"

    def __init__(self, party_size: int, starts_at: datetime) -> None:
        super().__init__(f"slot full: {party_size} at {starts_at.isoformat()}", field="starts_at")
        self.party_size, self.starts_at = party_size, starts_at


class InvalidTransition(Conflict):
    """The status machine has no step from `current` to `requested`."""

    code = "invalid_transition"

    def __init__(self, current: str, requested: str) -> None:
        super().__init__(f"{current} -> {requested}", field="status")
        self.current, self.requested = current, requested


class AlreadyExists(Conflict):
    """A `kind` with id `key` exists already."""

    code = "already_exists"

    def __init__(self, kind: str, key: str, *, field: str) -> None:
        super().__init__(f"{kind} {key!r} already exists", field=field)
        self.kind, self.key = kind, key


class ConcurrentUpdate(Conflict):
    code = "concurrent_update"


def on_a_fresh_read(attempt: Callable[[], T], attempts: int = 3) -> T | None:
    """Optimistic concurrency: `attempt` reads an item, decides on it and writes on the version
    it read. When another writer got in first (ConcurrentUpdate), it runs again on a fresh
    read; None once the attempts are spent (the caller says what that means for it)."""
    for _ in range(attempts):
        try:
            return attempt()
        except ConcurrentUpdate:
            continue
    return None


def changed_on_a_fresh_read(attempt: Callable[[], T]) -> T:
    """`on_a_fresh_read` for a change a person asked for (an `attempt` that never answers
    None): once the attempts are spent, 409 concurrent_update, so that they try again."""
    done = on_a_fresh_read(attempt)
    if done is None:
        raise ConcurrentUpdate(
            "the reservation is being changed by someone else; retry", field="reservation_id"
        )
    return done


class IdempotencyKeyReused(Invalid):
    code = "idempotency_key_reused"


class TooManyRequests(DomainError):
    """Too many booking requests today from one client address (`kind` "client") or for one
    guest email (`kind` "email") at one restaurant; the count restarts at the restaurant's next
    local midnight, `retry_after_seconds` from now (429)."""

    code = "too_many_requests"

    def __init__(self, kind: str, retry_after_seconds: int) -> None:
        field = "guest.email" if kind == "email" else None
        super().__init__(f"too many booking requests from this {kind} today", field=field)
        self.kind, self.retry_after_seconds = kind, retry_after_seconds


class Unauthenticated(DomainError):
    code = "unauthenticated"


class Forbidden(DomainError):
    code = "forbidden"
