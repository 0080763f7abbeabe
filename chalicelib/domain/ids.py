"""Identifiers: time-sortable and unguessable (ULID layout: 48-bit ms time + 80 random bits)."""

from __future__ import annotations

import secrets
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id(now_ms: int | None = None) -> str:
    """A 26-character Crockford base32 id that sorts by creation time."""
    millis = int(time.time() * 1000) if now_ms is None else now_ms
    value = (millis << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 0x1F])
        value >>= 5
    return "".join(reversed(chars))


def is_id(text: str) -> bool:
    """True when `text` is shaped like an id from `new_id` (cheap guard before a lookup)."""
    return len(text) == 26 and all(c in _CROCKFORD for c in text)
