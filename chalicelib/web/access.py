"""Who may call what. Every route declares one `Access`; `Authenticator.authorize` is the one
place that checks it (admin token, per-restaurant staff tokens, guests' manage tokens)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from enum import Enum
from typing import Literal, Protocol

from chalicelib.domain.errors import Forbidden, NotFound, Unauthenticated
from chalicelib.domain.tokens import digest, same_digest
from chalicelib.services.ports import StaffSession, StaffToken
from chalicelib.services.staff_sessions import StaffSessions
from chalicelib.web.links import StaffLinkSigner
from chalicelib.web.routes import MANAGE_TOKEN


class Access(Enum):
    PUBLIC = "public"
    ADMIN = "admin"
    STAFF = "staff"  # staff of the restaurant in the path, or an admin
    GUEST_OR_STAFF = "guest_or_staff"  # the reservation's manage token, or staff
    STAFF_LINK = "staff_link"  # a signed, expiring accept/decline link from a staff email
    STAFF_SESSION = "staff_session"  # a signed-in staff browser (the day view); forms: CSRF
    STAFF_SIGN_IN = "staff_sign_in"  # a signed, expiring sign-in link (starts a session)


@dataclass(frozen=True)
class Principal:
    role: Literal["public", "admin", "staff", "guest"]
    restaurant_id: str | None = None
    token_id: str | None = None
    link_action: str | None = None  # what a signed staff link allows ("accept", "decline")
    session: StaffSession | None = None  # the staff session of a signed-in browser
    sign_in: tuple[str, str] | None = None  # a checked sign-in link's (staff, day)

    @property
    def actor(self) -> str:
        """Who did it, as recorded on a reservation ("guest" or "staff")."""
        return "guest" if self.role == "guest" else "staff"


@dataclass(frozen=True)
class Credentials:
    """What a request presents: the Authorization header and a `?token=` manage token."""

    authorization: str | None = None
    manage_token: str | None = None
    link_action: str | None = None
    link_expires: str | None = None
    link_signature: str | None = None
    link_staff: str | None = None
    link_day: str | None = None
    session: str | None = None  # the staff session cookie's secret
    unsafe: bool = False  # a POST: a session's form must carry its CSRF token
    csrf_token: str | None = None


class AdminSecret(Protocol):
    """Holds the admin token (read on first use: from SSM in AWS stages)."""

    @property
    def admin_token(self) -> str: ...


class StaffTokenLookup(Protocol):
    def find_staff_token(self, token_digest: str) -> StaffToken | None: ...


class ManageTokenLookup(Protocol):
    def manage_token_digest(self, restaurant_id: str, reservation_id: str) -> str | None: ...


class Authenticator:
    def __init__(
        self,
        admin: AdminSecret,
        staff_tokens: StaffTokenLookup,
        manage_tokens: ManageTokenLookup,
        staff_links: StaffLinkSigner | None = None,
        sessions: StaffSessions | None = None,
    ) -> None:
        self._admin = admin
        self._staff_tokens = staff_tokens
        self._manage_tokens = manage_tokens
        self._staff_links = staff_links
        self._sessions = sessions

    def authorize(
        self,
        access: Access,
        credentials: Credentials,
        restaurant_id: str | None = None,
        reservation_id: str | None = None,
    ) -> Principal:
        """The caller, or Unauthenticated (401) / Forbidden (403)."""
        if access is Access.PUBLIC:
            return Principal("public")
        if access is Access.STAFF_LINK:
            return self._staff_link(credentials, restaurant_id, reservation_id)
        if access is Access.STAFF_SESSION:
            return self._staff_session(credentials, restaurant_id)
        if access is Access.STAFF_SIGN_IN:
            return self._sign_in_link(credentials, restaurant_id)
        bearer = _bearer(credentials.authorization)
        if access is Access.ADMIN:
            if bearer is not None and self._is_admin(bearer):
                return Principal("admin")
            if bearer is not None and self._is_staff_token(bearer):
                raise Forbidden("this needs the admin token, not a staff token")
            raise Unauthenticated("send the admin token as 'Authorization: Bearer <token>'")
        if bearer is not None or access is Access.STAFF:
            return self._staff(bearer, restaurant_id)
        return self._guest(credentials.manage_token, restaurant_id, reservation_id)

    def _staff_link(
        self, credentials: Credentials, restaurant_id: str | None, reservation_id: str | None
    ) -> Principal:
        if self._staff_links is None or restaurant_id is None or reservation_id is None:
            raise Forbidden("this link is not valid")
        action = self._staff_links.verify(
            restaurant_id,
            reservation_id,
            credentials.link_action,
            credentials.link_expires,
            credentials.link_signature,
        )
        return Principal("staff", restaurant_id, link_action=action)

    def _sign_in_link(self, credentials: Credentials, restaurant_id: str | None) -> Principal:
        if self._staff_links is None or restaurant_id is None:
            raise Forbidden("this link is not valid")
        self._staff_links.verify_sign_in(
            restaurant_id,
            credentials.link_staff,
            credentials.link_day,
            credentials.link_expires,
            credentials.link_signature,
        )
        assert credentials.link_staff is not None and credentials.link_day is not None
        return Principal(
            "public", restaurant_id, sign_in=(credentials.link_staff, credentials.link_day)
        )

    def _staff_session(self, credentials: Credentials, restaurant_id: str | None) -> Principal:
        if self._sessions is None or restaurant_id is None:
            raise Forbidden("staff sessions are not available here")
        session = self._sessions.current(credentials.session, restaurant_id)
        if credentials.unsafe:
            self._sessions.check_form(session, credentials.csrf_token)
        return Principal("staff", restaurant_id, session=session)

    def _is_staff_token(self, bearer: str) -> bool:
        return self._staff_tokens.find_staff_token(digest(bearer)) is not None

    def _is_admin(self, bearer: str) -> bool:
        expected = self._admin.admin_token
        # An unset admin token must never match anything (fail closed).
        return bool(expected) and hmac.compare_digest(digest(bearer), digest(expected))

    def _staff(self, bearer: str | None, restaurant_id: str | None) -> Principal:
        if bearer is None:
            raise Unauthenticated("send a staff token as 'Authorization: Bearer <token>'")
        if self._is_admin(bearer):
            return Principal("admin", restaurant_id)
        token = self._staff_tokens.find_staff_token(digest(bearer))
        if token is None:
            raise Unauthenticated("unknown or revoked token")
        if token.restaurant_id != restaurant_id:
            raise Forbidden("this staff token belongs to another restaurant")
        return Principal("staff", token.restaurant_id, token.token_id)

    def _guest(
        self, manage_token: str | None, restaurant_id: str | None, reservation_id: str | None
    ) -> Principal:
        if not manage_token:
            raise Unauthenticated(
                "send the reservation's manage token as '?token=<manage_token>', "
                "or a staff token as 'Authorization: Bearer <token>'"
            )
        if restaurant_id is None or reservation_id is None:
            raise Forbidden("a manage token only opens its own reservation")
        stored = self._manage_tokens.manage_token_digest(restaurant_id, reservation_id)
        if stored is None:
            raise NotFound("reservation", reservation_id, field="reservation_id")
        if not same_digest(manage_token, stored):
            raise Forbidden("this manage token does not open this reservation", field=MANAGE_TOKEN)
        return Principal("guest", restaurant_id)


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
    return value.strip()
