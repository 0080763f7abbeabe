"""Links in emails: staff accept/decline links (signed, expiring) and guests' manage links."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Literal
from urllib.parse import urlencode

from chalicelib.domain.errors import Forbidden
from chalicelib.domain.tokens import same_text
from chalicelib.web.routes import (
    LINK_ACTION,
    LINK_DAY,
    LINK_EXPIRES,
    LINK_SIGNATURE,
    LINK_STAFF,
    MANAGE,
    MANAGE_TOKEN,
    RESPOND,
    STAFF_SIGN_IN,
    reservation_path,
)

StaffAction = Literal["accept", "decline"]

# Staff read these on the page the link opens: words for people, not for developers.
INCOMPLETE = "This link is incomplete. Open it again from the email; part of it may be missing."
NOT_VALID = (
    "This link is not valid. Open it again from the email; if it was copied, part of it may "
    "be missing."
)
SIGN_IN_EXPIRED = (
    "This sign-in link has expired. Ask for a new one on this page: it is sent to your "
    "address on the restaurant's staff list."
)
EXPIRED = (
    "This link has expired: links in staff emails work until the booking's start time, so "
    "this request can no longer be answered from the email."
)


class StaffLinkSigner:
    """Signs staff links (HMAC-SHA256 over restaurant, reservation, action and expiry) and
    checks them: the one place that decides whether a staff link is genuine and current."""

    def __init__(self, signing_key: str, clock: Callable[[], datetime]) -> None:
        self._key = signing_key.encode()
        self._clock = clock

    def verify(
        self,
        restaurant_id: str,
        reservation_id: str,
        action: str | None,
        expires: str | None,
        signature: str | None,
    ) -> StaffAction:
        """The action a link grants, or Forbidden (tampered, incomplete or expired)."""
        if action not in ("accept", "decline") or not expires or not signature:
            raise Forbidden(INCOMPLETE)
        try:
            until = int(expires)
        except ValueError:
            raise Forbidden(NOT_VALID) from None
        expected = self.sign(restaurant_id, reservation_id, action, until)
        if not same_text(signature, expected):
            raise Forbidden(NOT_VALID)
        if self._clock().timestamp() > until:
            raise Forbidden(EXPIRED)
        return "accept" if action == "accept" else "decline"

    def sign(self, restaurant_id: str, reservation_id: str, action: str, until: int) -> str:
        return self._mac(f"staff-action:{restaurant_id}/{reservation_id}/{action}/{until}")

    def sign_in(self, restaurant_id: str, staff: str, day: str, until: int) -> str:
        """A sign-in link's signature: `staff` is `recipients_digest` of the addresses the
        link was sent to (the session lasts while every one of them stays listed)."""
        return self._mac(f"staff-sign-in:{restaurant_id}/{staff}/{day}/{until}")

    def verify_sign_in(
        self,
        restaurant_id: str,
        staff: str | None,
        day: str | None,
        expires: str | None,
        signature: str | None,
    ) -> int:
        """A sign-in link's expiry (epoch seconds), or Forbidden (tampered, incomplete or
        expired)."""
        if not staff or not expires or not signature or day is None:
            raise Forbidden(INCOMPLETE)
        try:
            until = int(expires)
        except ValueError:
            raise Forbidden(NOT_VALID) from None
        if not same_text(signature, self.sign_in(restaurant_id, staff, day, until)):
            raise Forbidden(NOT_VALID)
        if self._clock().timestamp() > until:
            raise Forbidden(SIGN_IN_EXPIRED)
        return until

    def _mac(self, text: str) -> str:
        digest = hmac.new(self._key, text.encode(), "sha256").digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def now(self) -> datetime:
        return self._clock()


TOKEN_LINK = "token."  # a sign-in link's `staff` for a staff token: "token.<token_id>"


def recipients_digest(addresses: Iterable[str]) -> str:
    """Names a set of staff addresses in a link without writing them into the URL."""
    joined = "\n".join(sorted({a.strip().lower() for a in addresses}))
    return base64.urlsafe_b64encode(hashlib.sha256(joined.encode()).digest()[:18]).decode()


class StaffLinks:
    """`…/respond?action=accept&expires=…&signature=…` for staff emails."""

    def __init__(self, signer: StaffLinkSigner, base_url: str) -> None:
        self._signer = signer
        self._base = base_url.rstrip("/")

    def answers(
        self, restaurant_id: str, reservation_id: str, starts_at: datetime
    ) -> tuple[str, str]:
        """The Accept and Decline links of a request: they work until its seating time."""
        return (
            self.url(restaurant_id, reservation_id, "accept", starts_at),
            self.url(restaurant_id, reservation_id, "decline", starts_at),
        )

    def url(
        self, restaurant_id: str, reservation_id: str, action: StaffAction, expires: datetime
    ) -> str:
        until = int(expires.timestamp())
        query = urlencode(
            {
                LINK_ACTION: action,
                LINK_EXPIRES: until,
                LINK_SIGNATURE: self._signer.sign(restaurant_id, reservation_id, action, until),
            }
        )
        path = reservation_path(RESPOND, restaurant_id, reservation_id)
        return f"{self._base}{path}?{query}"

    def now(self) -> datetime:
        return self._signer.now()

    def day_view(
        self, restaurant_id: str, recipients: Iterable[str], day: date, valid_for: timedelta
    ) -> str:
        """A signed link that signs the people it was sent to (`recipients`, staff addresses)
        in to the restaurant's day view, opening on `day`; it works for `valid_for`."""
        return self._sign_in_url(restaurant_id, recipients_digest(recipients), day, valid_for)

    def day_view_for_token(
        self, restaurant_id: str, token_id: str, day: date, valid_for: timedelta
    ) -> str:
        """A sign-in link for the holder of a staff token (e.g. the host stand's tablet): its
        sessions end when the token is revoked."""
        return self._sign_in_url(restaurant_id, TOKEN_LINK + token_id, day, valid_for)

    def _sign_in_url(self, restaurant_id: str, staff: str, day: date, valid_for: timedelta) -> str:
        until = int((self._signer.now() + valid_for).timestamp())
        query = urlencode(
            {
                LINK_STAFF: staff,
                LINK_DAY: day.isoformat(),
                LINK_EXPIRES: until,
                LINK_SIGNATURE: self._signer.sign_in(restaurant_id, staff, day.isoformat(), until),
            }
        )
        path = STAFF_SIGN_IN.format(restaurant_id=restaurant_id)
        return f"{self._base}{path}?{query}"


def manage_url(base_url: str, restaurant_id: str, reservation_id: str, token: str) -> str:
    """A guest's link to their reservation's page."""
    path = reservation_path(MANAGE, restaurant_id, reservation_id)
    return f"{base_url.rstrip('/')}{path}?{urlencode({MANAGE_TOKEN: token})}"
