"""Domain errors. Each names the request field it is about, so the API can point at it.

The HTTP layer maps the four families (NotFound, Invalid, Conflict, AccessDenied) to status
codes in one table; the domain never knows about HTTP.
"""

from __future__ import annotations


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
    code = "not_found"


class Invalid(DomainError):
    """The request is well-formed but breaks a booking rule (422)."""

    code = "invalid"


class Conflict(DomainError):
    """The request clashes with the current state (409)."""

    code = "conflict"


class SlotFull(Conflict):
    code = "slot_full"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class AlreadyExists(Conflict):
    code = "already_exists"


class ConcurrentUpdate(Conflict):
    code = "concurrent_update"


class IdempotencyKeyReused(Invalid):
    code = "idempotency_key_reused"


class Unauthenticated(DomainError):
    code = "unauthenticated"


class Forbidden(DomainError):
    code = "forbidden"
