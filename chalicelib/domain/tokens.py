"""Secrets handed to people: guests' manage tokens and staff bearer tokens.

Only SHA-256 digests are stored. A manage token is derived (HMAC of the reservation's identity
under the signing key) so that an idempotent replay of a booking can hand the guest the same
token again without the token itself ever being stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

STAFF_TOKEN_PREFIX = "stf_"


def digest(secret: str) -> str:
    """The stored form of a secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def same_text(presented: str, expected: str) -> bool:
    """Constant-time equality of two strings, whatever characters a client sent
    (`hmac.compare_digest` refuses non-ASCII `str`: a TypeError, a 500)."""
    return hmac.compare_digest(presented.encode(errors="surrogatepass"), expected.encode())


def same_digest(secret: str, stored_digest: str) -> bool:
    """Constant-time check of a presented secret against a stored digest."""
    return hmac.compare_digest(digest(secret), stored_digest)


def new_staff_token() -> str:
    return STAFF_TOKEN_PREFIX + secrets.token_urlsafe(32)


class ManageTokens:
    """Issues guests' manage tokens from the signing key."""

    def __init__(self, signing_key: str) -> None:
        if len(signing_key) < 16:
            raise ValueError("the signing key must be at least 16 characters")
        self._key = signing_key.encode()

    def for_reservation(self, restaurant_id: str, reservation_id: str) -> str:
        mac = hmac.new(self._key, f"manage:{restaurant_id}/{reservation_id}".encode(), "sha256")
        return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()
