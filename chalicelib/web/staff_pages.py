"""The staff day view and its sign-in: a restaurant's bookings of one day on a phone during
service. Pending requests first, each with Accept and Decline; then every booking by time; the
day's totals; other days one tap away.

No passwords: every staff email carries a signed link ("Open the day's bookings"). Opening it
shows one button; pressing it starts a session (an HttpOnly, SameSite=Strict cookie) and
opens the day. The button is there because mail scanners open links, and because a cookie set
on a cross-site navigation's redirect would not be sent back under SameSite=Strict.

Redirects use relative URLs, so they hold under API Gateway's stage prefix (`/api/...`).
"""

from __future__ import annotations

from datetime import date, timedelta
from html import escape
from urllib.parse import urlencode

from chalice.app import Response
from pydantic import BaseModel, ConfigDict, EmailStr, ValidationError

from chalicelib.domain.errors import InvalidTransition
from chalicelib.domain.reservations import DeclineReservation, Reservation, Status
from chalicelib.services.booking import ReservationDesk, RestaurantAdmin
from chalicelib.services.notifications import DailySummaries
from chalicelib.services.ports import StaffSession
from chalicelib.services.staff_sessions import SIGN_IN_LINK_LIFETIME, StaffSessions
from chalicelib.web.pages import guest_name, href, page
from chalicelib.web.routes import CSRF_FIELD, STAFF_DAY, STAFF_SIGN_IN_LINK, STAFF_SIGN_OUT
from chalicelib.web.session_cookie import SessionCookie

NOTICES = {
    "accepted": "Accepted. The guest will receive a confirmation by email.",
    "declined": "Declined. The guest will be told by email.",
    "unchanged": "That request had already been answered: nothing was changed.",
}
_BADGE = {s: f"status status-{s.value.lower()}" for s in Status}
_SHORT_STATUS = {
    Status.PENDING: "Waiting for an answer",
    Status.ACCEPTED: "Accepted",
    Status.DECLINED: "Declined",
    Status.CANCELLED: "Cancelled",
}


class SignInLinkRequest(BaseModel):
    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    email: EmailStr


def redirect(location: str, set_cookie: str | None = None) -> Response:
    headers: dict[str, str | list[str]] = {"Location": location, "Content-Type": "text/plain"}
    if set_cookie:
        headers["Set-Cookie"] = set_cookie
    return Response(body="", status_code=303, headers=headers)


class StaffDayPages:
    def __init__(
        self,
        desk: ReservationDesk,
        restaurants: RestaurantAdmin,
        summaries: DailySummaries,
        sessions: StaffSessions,
        cookie: SessionCookie,
    ) -> None:
        self._desk = desk
        self._restaurants = restaurants
        self._summaries = summaries
        self._sessions = sessions
        self._cookie = cookie

    # -- sign-in and sign-out ------------------------------------------------------------

    def sign_in_page(self, restaurant_id: str, has_link: bool) -> Response:
        """A sign-in link opened: one button that starts the session (the form posts back to
        the same URL, link and all)."""
        name = self._restaurants.get(restaurant_id).name
        if not has_link:
            return self.ask_for_link_page(restaurant_id)
        body = (
            "<p>This link signs you in to the restaurant's bookings on this device for 12 "
            "hours.</p>"
            '<form method="post"><button type="submit">Open the bookings</button></form>'
        )
        return page("Staff sign-in", body, name)

    def sign_in(self, restaurant_id: str, link: tuple[str, str]) -> Response:
        """Starts a session from a checked sign-in link (staff, day) and opens its day."""
        secret, _, opens_on = self._sessions.start(restaurant_id, *link)
        return redirect(_day_href(restaurant_id, opens_on), self._cookie.set(secret))

    def ask_for_link_page(
        self, restaurant_id: str, status: int = 200, email: str = "", error: str = ""
    ) -> Response:
        """Where staff without a link land: a sign-in link by email, for listed addresses."""
        name = self._restaurants.get(restaurant_id).name
        minutes = int(SIGN_IN_LINK_LIFETIME.total_seconds() // 60)
        problem = (
            f'<p class="error" id="email-error" role="alert">{escape(error)}</p>' if error else ""
        )
        described = ' aria-describedby="email-error" aria-invalid="true"' if error else ""
        body = (
            "<p>Follow “Open the day's bookings” in any recent staff email from this service: it "
            "signs you in on this device.</p>"
            "<h2>No email at hand?</h2>"
            f"<p>Ask for a sign-in link. It is sent only to addresses on the restaurant's "
            f"staff list and works for {minutes} minutes.</p>"
            f'<form method="post" action="{escape(_path(STAFF_SIGN_IN_LINK, restaurant_id))}">'
            '<label for="email">Your staff email address</label>'
            f'<input type="email" id="email" name="email" autocomplete="email" required '
            f'maxlength="254" value="{escape(email)}"{described}>{problem}'
            '<button type="submit">Email me a sign-in link</button></form>'
        )
        return page("Staff sign-in", body, name, status)

    def request_link(self, restaurant_id: str, fields: dict[str, str]) -> Response:
        """The answer is the same whether or not the address is listed (nor rate-limited)."""
        email = fields.get("email", "").strip()
        try:
            address = SignInLinkRequest(email=email).email
        except ValidationError:
            return self.ask_for_link_page(
                restaurant_id, 422, email, "Enter an email address, like name@example.com."
            )
        self._sessions.request_link(restaurant_id, str(address))
        name = self._restaurants.get(restaurant_id).name
        minutes = int(SIGN_IN_LINK_LIFETIME.total_seconds() // 60)
        body = (
            f"<p>If {escape(str(address))} is on {escape(name)}'s staff list, a sign-in link "
            f"is on its way to it. The link works for {minutes} minutes.</p>"
            "<p>Nothing after a few minutes? Check the spam folder, or ask the restaurant's "
            "manager which address is on the list.</p>"
        )
        return page("Check your email", body, name)

    def sign_out(self, session_secret: str | None) -> Response:
        self._sessions.end(session_secret)
        response = page(
            "Signed out",
            "<p>You are signed out on this device. To see the bookings again, open the link "
            "in a staff email.</p>",
            None,
        )
        response.headers["Set-Cookie"] = self._cookie.clear()
        return response

    # -- the day view --------------------------------------------------------------------

    def day(
        self, restaurant_id: str, session: StaffSession, day: date | None, notice: str | None
    ) -> Response:
        restaurant = self._restaurants.get(restaurant_id)
        today = self._desk.today(restaurant_id)
        day = day or today
        reservations = self._desk.day_sheet(restaurant_id, day)
        pending = [r for r in reservations if r.status is Status.PENDING and r.guest]
        totals = self._summaries.of(restaurant_id, day)
        parts = [
            f'<p class="notice" role="status">{escape(NOTICES[notice])}</p>'
            if notice in NOTICES
            else "",
            _day_nav(restaurant_id, day, today),
            _totals(totals, restaurant.capacity),
            f'<h2 id="pending">Waiting for an answer ({len(pending)})</h2>',
            "".join(_pending_card(r, session, day) for r in pending)
            or '<p class="muted">No requests waiting.</p>',
            f'<h2 id="all">All bookings ({len(reservations)})</h2>',
            _table(reservations) if reservations else '<p class="muted">No bookings.</p>',
            _sign_out_form(session),
        ]
        title = "Bookings, " + _long_date(day) + (" (today)" if day == today else "")
        return page(title, "".join(parts), restaurant.name)

    def act(self, restaurant_id: str, fields: dict[str, str]) -> Response:
        """Accept or decline from the day view, then back to the day (post/redirect/get)."""
        reservation_id = fields.get("reservation_id", "")
        action = fields.get("action")
        reservation = self._desk.get(restaurant_id, reservation_id)
        try:
            if action == "accept":
                self._desk.accept(restaurant_id, reservation_id)
                notice = "accepted"
            elif action == "decline":
                reason = DeclineReservation(reason=fields.get("reason") or None).reason
                self._desk.decline(restaurant_id, reservation_id, reason)
                notice = "declined"
            else:
                notice = "unchanged"
        except InvalidTransition:
            notice = "unchanged"
        query = {"date": reservation.local_date.isoformat(), "notice": notice}
        return redirect(_path(STAFF_DAY, restaurant_id) + "?" + urlencode(query))


def _path(route: str, restaurant_id: str) -> str:
    """A link to one of the restaurant's staff pages, relative to the page being answered."""
    return href(route.format(restaurant_id=restaurant_id))


def _day_href(restaurant_id: str, day: date) -> str:
    return f"{_path(STAFF_DAY, restaurant_id)}?{urlencode({'date': day.isoformat()})}"


def _long_date(day: date) -> str:
    return day.strftime("%A %-d %B %Y")


def _day_nav(restaurant_id: str, day: date, today: date) -> str:
    previous, following = day - timedelta(days=1), day + timedelta(days=1)
    links = [
        _day_link(restaurant_id, previous, "← " + previous.strftime("%a %-d %b")),
        _day_link(restaurant_id, today, "Today") if day != today else "",
        _day_link(restaurant_id, following, following.strftime("%a %-d %b") + " →"),
    ]
    pick = (
        '<form method="get" class="pick-day"><label for="date">Another day</label> '
        f'<input type="date" id="date" name="date" value="{day.isoformat()}" required> '
        '<button type="submit" class="secondary">Show</button></form>'
    )
    return f'<nav class="days" aria-label="Other days">{"".join(links)}</nav>{pick}'


def _day_link(restaurant_id: str, day: date, text: str) -> str:
    return f'<a href="{escape(_day_href(restaurant_id, day))}">{escape(text)}</a>'


def _totals(totals: dict[str, int | str], capacity: int) -> str:
    rows = [
        ("Covers booked", f"{totals['covers_booked']} (capacity {capacity} at a time)"),
        ("Requests", str(totals["requested"])),
        ("Waiting", str(totals["pending"])),
        ("Accepted", str(totals["accepted"])),
        ("Declined", str(totals["declined"])),
        ("Cancelled", str(totals["cancelled"])),
    ]
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows)
    return f'<h2 id="totals">The day\'s totals</h2><dl class="totals">{items}</dl>'


def _guests(n: int) -> str:
    return "1 guest" if n == 1 else f"{n} guests"


def _contact(reservation: Reservation) -> str:
    guest = reservation.guest
    if guest is None:
        return ""
    parts = [f'<a href="mailto:{escape(str(guest.email))}">{escape(str(guest.email))}</a>']
    if guest.phone:
        parts.append(f'<a href="tel:{escape(guest.phone)}">{escape(guest.phone)}</a>')
    return " · ".join(parts)


def _pending_card(reservation: Reservation, session: StaffSession, day: date) -> str:
    rid = escape(reservation.id)
    when = reservation.starts_at.strftime("%H:%M")
    name = guest_name(reservation)
    heading = f"{when} · {name} · {_guests(reservation.party_size)}"
    notes = f"<p>Notes: {escape(reservation.notes)}</p>" if reservation.notes else ""
    hidden = (
        f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(session.csrf_token)}">'
        f'<input type="hidden" name="reservation_id" value="{rid}">'
    )
    accept = (
        f'<form method="post">{hidden}<input type="hidden" name="action" value="accept">'
        f'<button type="submit">Accept {escape(when)} {escape(name)}</button>'
        "</form>"
    )
    decline = (
        f'<form method="post">{hidden}<input type="hidden" name="action" value="decline">'
        f'<label for="reason-{rid}">Reason for the guest (optional)</label>'
        f'<textarea id="reason-{rid}" name="reason" rows="2" maxlength="500"></textarea>'
        f'<button type="submit" class="secondary">Decline {escape(when)} '
        f"{escape(name)}</button></form>"
    )
    return (
        f'<article class="request" aria-labelledby="r-{rid}"><h3 id="r-{rid}">'
        f"{escape(heading)}</h3><p>{_contact(reservation)}</p>{notes}{accept}{decline}</article>"
    )


def _table(reservations: list[Reservation]) -> str:
    rows = "".join(
        "<tr>"
        f'<td data-label="Time">{escape(r.starts_at.strftime("%H:%M"))}</td>'
        f'<td data-label="Guest">{escape(guest_name(r))}</td>'
        f'<td data-label="Party">{r.party_size}</td>'
        f'<td data-label="Status"><span class="{_BADGE[r.status]}">'
        f"{escape(_SHORT_STATUS[r.status])}</span></td>"
        f'<td data-label="Contact">{_contact(r)}</td>'
        f'<td data-label="Notes">{escape(r.notes or "")}</td>'
        "</tr>"
        for r in reservations
    )
    head = (
        '<tr><th scope="col">Time</th><th scope="col">Guest</th><th scope="col">Party</th>'
        '<th scope="col">Status</th><th scope="col">Contact</th><th scope="col">Notes</th></tr>'
    )
    table = f'<table class="stacked"><thead>{head}</thead><tbody>{rows}</tbody></table>'
    return f'<div class="table-wrap">{table}</div>'


def _sign_out_form(session: StaffSession) -> str:
    return (
        f'<form method="post" action="{escape(_path(STAFF_SIGN_OUT, session.restaurant_id))}" '
        'class="sign-out">'
        f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(session.csrf_token)}">'
        '<button type="submit" class="secondary">Sign out</button></form>'
    )
