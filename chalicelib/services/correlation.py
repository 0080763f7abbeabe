"""The correlation id of the request being served: the client's `X-Correlation-Id`, or the
API's own request id. Every change a request makes carries it (the reservation stores it, the
events and emails repeat it), so one search of the logs finds every step of one request."""

from __future__ import annotations

import contextvars
import re

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "correlation_id", default=None
)
_ACCEPTED = re.compile(r"^[A-Za-z0-9._:/+=@-]{1,128}$")


def accepted(sent: str | None) -> str | None:
    """A client's correlation id if it is usable as one (short, printable, no spaces)."""
    return sent if sent and _ACCEPTED.match(sent) else None


def current() -> str | None:
    return _current.get()


def serve(correlation_id: str) -> contextvars.Token[str | None]:
    """Use `correlation_id` until `done(token)`."""
    return _current.set(correlation_id)


def done(token: contextvars.Token[str | None]) -> None:
    _current.reset(token)
