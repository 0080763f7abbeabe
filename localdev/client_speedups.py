"""Work botocore repeats on every call of the local processes (the launcher's event handlers and
`chalice local`), done once or in C instead; every result is the same string as before.

Measured with cProfile over a drain of 200 bookings (CPU of the launcher's handler threads):

- botocore builds the User-Agent header twice a call, sanitising each of its ~50 components
  character by character in a generator: a tenth of the handlers' CPU. The sanitiser is a pure
  function of its arguments, and the components repeat: each is sanitised once;
- SES's query protocol form-encodes the raw message (base64, tens of kB): the standard
  library's `quote_from_bytes` maps it byte by byte in a list comprehension, another tenth. The
  same mapping, done by `str.translate`, gives the same string.

Production Lambdas keep botocore as it is: this is applied only by the local launcher and API.
"""

from __future__ import annotations

import functools
import urllib.parse
from typing import Any

_ALWAYS_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")


def speed_up_clients() -> None:
    """Install both (idempotent)."""
    import botocore.useragent

    sanitize = botocore.useragent.sanitize_user_agent_string_component
    if not hasattr(sanitize, "cache_info"):
        cached = functools.lru_cache(maxsize=4096)(sanitize)
        setattr(botocore.useragent, "sanitize_user_agent_string_component", cached)  # noqa: B010
    if urllib.parse.quote_from_bytes is not quote_from_bytes:
        setattr(urllib.parse, "quote_from_bytes", quote_from_bytes)  # noqa: B010


@functools.lru_cache(maxsize=64)
def _table(safe: bytes) -> dict[int, str]:
    keep = _ALWAYS_SAFE | frozenset(safe)
    return {byte: chr(byte) if byte in keep else f"%{byte:02X}" for byte in range(256)}


def quote_from_bytes(bs: Any, safe: Any = "/") -> str:
    """`urllib.parse.quote_from_bytes`, the same answer for every input."""
    if not isinstance(bs, bytes | bytearray):
        raise TypeError("quote_from_bytes() expected bytes")
    if not bs:
        return ""
    if isinstance(safe, str):
        safe = safe.encode("ascii", "ignore")
    else:
        safe = bytes([c for c in safe if c < 128])
    return bytes(bs).decode("latin-1").translate(_table(safe))
