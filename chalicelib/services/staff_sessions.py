"""Staff sessions for the day view: started from a signed sign-in link, ended by sign-out,
by time, or when what the link was sent to is gone (an address taken off the restaurant's
staff list, a staff token revoked). No passwords: the link in a staff email is the key.

The browser holds a random secret in an HttpOnly cookie; the table holds its digest. Each
session has its own CSRF token, which every form of the day view sends back.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import date, timedelta

from chalicelib.domain.errors import Forbidden, Unauthenticated
from chalicelib.domain.ids import new_id
from chalicelib.domain.tokens import digest, same_text
from chalicelib.services import correlation
from chalicelib.services.booking import Clock, find_restaurant, utc_now
from chalicelib.services.ports import (
    RestaurantStore,
    SignInRequest,
    StaffSession,
    StaffSessionStore,
    StaffTokenStore,
)
from chalicelib.web.links import NOT_VALID, TOKEN_LINK, recipients_digest

SESSION_LENGTH = timedelta(hours=12)  # a day's service, then a fresh link
SIGN_IN_LINK_LIFETIME = timedelta(minutes=30)  # a link asked for on the sign-in page
SIGN_IN_LINKS_PER_HOUR = 3  # per address: the page cannot be used to flood an inbox

NOT_SIGNED_IN = (
    "You are not signed in. Follow “Open the day's bookings” in a recent staff email, or ask for "
    "a sign-in link."
)
SESSION_ENDED = "Your session has ended. Ask for a new sign-in link to see the bookings again."
OTHER_RESTAURANT = (
    "You are signed in to another restaurant's bookings. Sign out there, then open the link "
    "from this restaurant's email."
)
NO_LONGER_LISTED = (
    "This link was sent to an address that is no longer on this restaurant's staff list (or "
    "the list has changed since). Ask for a new sign-in link."
)
TOKEN_REVOKED = "The staff token this link was made for has been revoked."
FORM_EXPIRED = "This form has expired. Reload the page and try again."


class StaffSessions:
    def __init__(
        self,
        sessions: StaffSessionStore,
        restaurants: RestaurantStore,
        staff_tokens: StaffTokenStore,
        clock: Clock = utc_now,
    ) -> None:
        self._sessions = sessions
        self._restaurants = restaurants
        self._staff_tokens = staff_tokens
        self._clock = clock

    def start(self, restaurant_id: str, staff: str, day: str) -> tuple[str, StaffSession, date]:
        """A new session from a sign-in link the guard checked (genuine and current; see
        `StaffLinkSigner.verify_sign_in`): (the cookie's secret, the session, the day the link
        opens on); Forbidden when what it was sent to is gone."""
        try:
            opens_on = date.fromisoformat(day)
        except ValueError:
            raise Forbidden(NOT_VALID) from None
        emails: tuple[str, ...] = ()
        token_digest: str | None = None
        if staff.startswith(TOKEN_LINK):
            token_id = staff.removeprefix(TOKEN_LINK)
            tokens = self._staff_tokens.staff_tokens(restaurant_id)
            found = [t for t in tokens if t.token_id == token_id]
            if not found:
                raise Forbidden(TOKEN_REVOKED)
            token_digest = found[0].token_digest
        else:
            emails = self._recipients(restaurant_id, staff)
        secret = secrets.token_urlsafe(32)
        session = StaffSession(
            session_digest=digest(secret),
            restaurant_id=restaurant_id,
            staff_emails=emails,
            token_digest=token_digest,
            csrf_token=secrets.token_urlsafe(24),
            expires_at=self._clock() + SESSION_LENGTH,
        )
        self._sessions.add_session(session)
        return secret, session, opens_on

    def request_link(self, restaurant_id: str, email: str) -> None:
        """Someone asks for a sign-in link for `email`. Only an address on the restaurant's
        staff list gets one (through the stream: see `StaffSignInRequested`), at most
        SIGN_IN_LINKS_PER_HOUR an hour; the caller learns nothing either way."""
        restaurant = find_restaurant(self._restaurants, restaurant_id)
        address = email.strip().lower()
        if address not in {str(a).lower() for a in restaurant.staff_emails}:
            return
        self._sessions.add_sign_in_request(
            SignInRequest(
                request_id=new_id(),
                restaurant_id=restaurant_id,
                email=address,
                requested_at=self._clock(),
                correlation_id=correlation.current(),
            ),
            per_hour=SIGN_IN_LINKS_PER_HOUR,
        )

    def current(self, secret: str | None, restaurant_id: str) -> StaffSession:
        """The session a cookie holds, for this restaurant: Unauthenticated when there is none
        (or it ended), Forbidden when it is another restaurant's."""
        if not secret:
            raise Unauthenticated(NOT_SIGNED_IN)
        session = self._sessions.get_session(digest(secret))
        if session is None or session.expires_at <= self._clock():
            raise Unauthenticated(SESSION_ENDED)
        if session.restaurant_id != restaurant_id:
            raise Forbidden(OTHER_RESTAURANT)
        if not self._still_entitled(session):
            self._sessions.end_session(session.session_digest)
            raise Unauthenticated(SESSION_ENDED)
        return session

    @staticmethod
    def check_form(session: StaffSession, csrf_token: str | None) -> None:
        """Forbidden unless a form sent back its session's CSRF token."""
        if not csrf_token or not same_text(csrf_token, session.csrf_token):
            raise Forbidden(FORM_EXPIRED, field="csrf_token")

    def end(self, secret: str | None) -> None:
        if secret:
            self._sessions.end_session(digest(secret))

    def _recipients(self, restaurant_id: str, staff: str) -> tuple[str, ...]:
        """The addresses a link was sent to: the whole staff list (a notification email) or
        one address on it (a sign-in link asked for by email), as they are listed now."""
        listed = [
            str(address)
            for address in find_restaurant(self._restaurants, restaurant_id).staff_emails
        ]
        candidates: Sequence[Sequence[str]] = [listed, *([address] for address in listed)]
        for addresses in candidates:
            if recipients_digest(addresses) == staff:
                return tuple(address.lower() for address in addresses)
        raise Forbidden(NO_LONGER_LISTED)

    def _still_entitled(self, session: StaffSession) -> bool:
        if session.token_digest is not None:
            return self._staff_tokens.find_staff_token(session.token_digest) is not None
        restaurant = find_restaurant(self._restaurants, session.restaurant_id)
        listed = {str(address).lower() for address in restaurant.staff_emails}
        return bool(session.staff_emails) and set(session.staff_emails) <= listed
