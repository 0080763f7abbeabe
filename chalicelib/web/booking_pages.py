"""The guest's booking page: choose a date and a party size, see the times the restaurant can
seat that party (the API's availability, `ReservationDesk.availability`), then send a name,
an email address and one of those times. The request goes through `ReservationDesk.request`
like the API's, with an Idempotency-Key the form carries in a hidden field: pressing the
button twice, or reloading the answer, sends one request.

Everything a guest can get wrong comes back as the same form, with what they typed and each
problem next to its field; never a bare error page.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape
from typing import Any
from urllib.parse import urlencode

from chalice.app import Response
from pydantic import ValidationError

from chalicelib.domain.booking_rules import seatings
from chalicelib.domain.errors import (
    ConcurrentUpdate,
    Conflict,
    Invalid,
    SlotFull,
    TooManyRequests,
)
from chalicelib.domain.reservations import RequestReservation
from chalicelib.domain.restaurants import Restaurant
from chalicelib.services.booking import Availability, Booking, ReservationDesk, RestaurantAdmin
from chalicelib.web.links import manage_url
from chalicelib.web.pages import guests, href, page, summary
from chalicelib.web.wording import message_for

# The form's fields.
DATE = "date"
PARTY_SIZE = "party_size"
TIME = "time"
NAME = "name"
EMAIL = "email"
PHONE = "phone"
NOTES = "notes"
KEY = "idempotency_key"  # hidden: one per rendered form, sent as the Idempotency-Key
WHOLE_FORM = ""  # a problem with no field of its own

DEFAULT_PARTY_SIZE = 2
SELECT_UP_TO = 40  # party sizes offered in a select; a wider range gets a number field
_HHMM = re.compile(r"^\d{2}:\d{2}$")

LABELS = {
    DATE: "Date",
    PARTY_SIZE: "Number of guests",
    TIME: "Time",
    NAME: "Name",
    EMAIL: "Email",
    PHONE: "Phone (optional)",
    NOTES: "Notes for the restaurant (optional)",
}
# What to do about each field, in the guest's words (the model's messages are the API's).
ADVICE = {
    TIME: "Choose one of the times.",
    NAME: "Enter your name (up to 100 characters).",
    EMAIL: "Enter your email address, like name@example.com.",
    PHONE: "Enter the number with its country code, like +44 20 7946 0958, or leave it empty.",
    NOTES: "Keep the notes to 500 characters or fewer.",
}
# Where the model reports a problem -> the form field it is about.
_FIELD_OF: dict[tuple[int | str, ...], str] = {
    ("guest", "name"): NAME,
    ("guest", "email"): EMAIL,
    ("guest", "phone"): PHONE,
    ("notes",): NOTES,
    ("starts_at",): TIME,
    ("party_size",): PARTY_SIZE,
}


@dataclass(frozen=True)
class Window:
    """The dates a guest can book: today (at the restaurant) to `max_days_ahead` days on."""

    first: date
    last: date

    def holds(self, day: date) -> bool:
        return self.first <= day <= self.last


@dataclass(frozen=True)
class Choice:
    """A date and a party size that the restaurant takes bookings for."""

    day: date
    party_size: int


Problems = dict[str, str]  # field -> what to do about it


class BookingPages:
    def __init__(
        self,
        desk: ReservationDesk,
        restaurants: RestaurantAdmin,
        new_key: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._desk = desk
        self._restaurants = restaurants
        self._new_key = new_key

    def show(self, restaurant_id: str, query: Mapping[str, str]) -> Response:
        """GET: the date and party-size form; with both chosen, the times and the details."""
        restaurant = self._restaurants.get(restaurant_id)
        window = self._window(restaurant)
        if DATE not in query and PARTY_SIZE not in query:
            size = min(
                max(DEFAULT_PARTY_SIZE, restaurant.min_party_size), restaurant.max_party_size
            )
            values = {DATE: window.first.isoformat(), PARTY_SIZE: str(size)}
            return self._form(restaurant, window, values, None, {})
        choice, problems = _choice(restaurant, window, query)
        # A key comes only from a form this page wrote, never from a link someone sent.
        values = {name: value for name, value in query.items() if name != KEY}
        return self._form(restaurant, window, values, choice, problems)

    def book(
        self, restaurant_id: str, fields: Mapping[str, str], client_address: str | None = None
    ) -> Response:
        """POST: the request, made once per form however often it is sent."""
        restaurant = self._restaurants.get(restaurant_id)
        window = self._window(restaurant)
        choice, problems = _choice(restaurant, window, fields)
        if choice is None:
            return self._form(restaurant, window, fields, None, problems, status=422)
        command, problems = _command(choice, fields)
        key = fields.get(KEY, "")
        if command is None or not key:
            if not key:
                problems[WHOLE_FORM] = "The form was incomplete. Press the button again."
            return self._form(restaurant, window, fields, choice, problems, status=422)
        try:
            booking = self._desk.request(restaurant.id, command, key, client_address)
        except TooManyRequests as error:
            problems = {_limited_field(error): _limited_advice(error)}
            response = self._form(restaurant, window, fields, choice, problems, status=429)
            response.headers["Retry-After"] = str(error.retry_after_seconds)
            return response
        except (Invalid, Conflict) as error:
            values = dict(fields)
            if error.field == "Idempotency-Key":
                # Used before for other details (the form sent again after a change, say):
                # a new key, so pressing the button now sends a new request.
                values[KEY] = self._new_key()
            status = 409 if isinstance(error, Conflict) else 422
            problems = dict([_refusal(error, restaurant)])
            return self._form(restaurant, window, values, choice, problems, status=status)
        return _received(restaurant, booking)

    # -- internals ------------------------------------------------------------------------

    def _window(self, restaurant: Restaurant) -> Window:
        today = self._desk.today(restaurant.id)
        return Window(today, today + timedelta(days=restaurant.max_days_ahead))

    def _form(
        self,
        restaurant: Restaurant,
        window: Window,
        values: Mapping[str, str],
        choice: Choice | None,
        problems: Problems,
        status: int = 200,
    ) -> Response:
        """The page: problems first, the date and party size, then (once chosen) the times."""
        parts = [_problem_list(problems), _day_and_size(restaurant, window, values, problems)]
        if choice is not None:
            available = self._desk.availability(restaurant.id, choice.day, choice.party_size)
            key = values.get(KEY) or self._new_key()
            parts.append(_times(restaurant, window, available, {**values, KEY: key}, problems))
        return page("Book a table", "".join(parts), restaurant.name, status)


# -- reading the form ------------------------------------------------------------------------


def _choice(
    restaurant: Restaurant, window: Window, fields: Mapping[str, str]
) -> tuple[Choice | None, Problems]:
    problems: Problems = {}
    day = _date(fields.get(DATE, ""))
    if day is None or not window.holds(day):
        problems[DATE] = (
            f"Choose a date from {_long_date(window.first)} to {_long_date(window.last)}."
        )
    size = _integer(fields.get(PARTY_SIZE, ""))
    if size is None or not restaurant.min_party_size <= size <= restaurant.max_party_size:
        problems[PARTY_SIZE] = _party_size_advice(restaurant)
    if day is None or size is None or problems:
        return None, problems
    return Choice(day, size), problems


def _command(
    choice: Choice, fields: Mapping[str, str]
) -> tuple[RequestReservation | None, Problems]:
    problems: Problems = {}
    time = fields.get(TIME, "")
    if not _HHMM.match(time):
        problems[TIME] = ADVICE[TIME]
    data: dict[str, Any] = {
        "guest": {
            "name": fields.get(NAME, ""),
            "email": fields.get(EMAIL, ""),
            "phone": fields.get(PHONE, "").strip() or None,
        },
        "party_size": choice.party_size,
        "starts_at": f"{choice.day.isoformat()}T{time if TIME not in problems else '00:00'}",
        "notes": fields.get(NOTES) or None,
    }
    try:
        command = RequestReservation.model_validate(data)
    except ValidationError as error:
        for problem in error.errors(include_url=False):
            field = _FIELD_OF.get(tuple(problem["loc"]), WHOLE_FORM)
            problems.setdefault(field, ADVICE.get(field, "Check the details and send them again."))
        return None, problems
    return (None if problems else command), problems


def _limited_field(error: TooManyRequests) -> str:
    return EMAIL if error.kind == "email" else WHOLE_FORM


def _limited_advice(error: TooManyRequests) -> str:
    """What a guest refused by the daily limit on requests can do."""
    if error.kind == "email":
        return (
            "This email address has sent as many booking requests today as the restaurant "
            "accepts. Try again tomorrow, or contact the restaurant."
        )
    return (
        "Too many booking requests have come from your connection today. Try again "
        "tomorrow, or contact the restaurant."
    )


def _refusal(error: Invalid | Conflict, restaurant: Restaurant) -> tuple[str, str]:
    """The field a refused request is about, and what the guest can do."""
    if isinstance(error, SlotFull):
        return TIME, "That time has just been booked up. Choose another time."
    if isinstance(error, ConcurrentUpdate):  # the same form, sent twice at once
        return WHOLE_FORM, "Your request is on its way. Wait a moment, then press the button again."
    if error.field == "Idempotency-Key":
        return WHOLE_FORM, "Check the details, then press the button again to send this request."
    if error.code == "in_the_past":
        return TIME, "That time has passed. Choose a later time."
    if error.field == "starts_at":
        return TIME, _sentence(message_for(error))
    if error.field == "party_size":
        return PARTY_SIZE, _party_size_advice(restaurant)
    return WHOLE_FORM, _sentence(message_for(error))


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def _integer(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 6 else None


def _party_size_advice(restaurant: Restaurant) -> str:
    return (
        f"Choose from {restaurant.min_party_size} to {restaurant.max_party_size} guests. "
        "For a larger group, contact the restaurant."
    )


def _sentence(text: str) -> str:
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _long_date(day: date) -> str:
    return day.strftime("%A %-d %B %Y")


# -- writing the page ------------------------------------------------------------------------


def _field_id(field: str) -> str:
    return field.replace("_", "-")


def _error_id(field: str) -> str:
    return f"{_field_id(field)}-error"


def _problem_list(problems: Problems) -> str:
    """All problems at the top (announced), each linking to its field."""
    if not problems:
        return ""
    items = []
    for field, advice in problems.items():
        if field == WHOLE_FORM:
            items.append(f"<li>{escape(advice)}</li>")
            continue
        target = _field_id(field)
        if field == TIME:
            target = "times"
        items.append(f'<li><a href="#{target}">{escape(LABELS[field])}: {escape(advice)}</a></li>')
    return (
        '<div class="error" role="alert"><p>There is a problem with what was sent:</p>'
        f"<ul>{''.join(items)}</ul></div>"
    )


def _about(field: str, problems: Problems, hint: str | None = None) -> tuple[str, str]:
    """What is said about a field (its hint, then its problem), written between its label and
    the control, and the attributes that tie it to the control."""
    described = [f"{_field_id(field)}-hint"] if hint else []
    message = f'<p class="hint" id="{_field_id(field)}-hint">{escape(hint)}</p>' if hint else ""
    if field in problems:
        described.append(_error_id(field))
        message += f'<p class="error" id="{_error_id(field)}">{escape(problems[field])}</p>'
    attributes = f' aria-describedby="{" ".join(described)}"' if described else ""
    if field in problems:
        attributes += ' aria-invalid="true"'
    return message, attributes


def _day_and_size(
    restaurant: Restaurant, window: Window, values: Mapping[str, str], problems: Problems
) -> str:
    """Step one: a GET form, so a chosen date and size are a URL (back button, sharing)."""
    date_message, date_attributes = _about(DATE, problems)
    size_message, size_attributes = _about(PARTY_SIZE, problems)
    chosen_size = values.get(PARTY_SIZE, "")
    low, high = restaurant.min_party_size, restaurant.max_party_size
    if high - low < SELECT_UP_TO:
        options = "".join(
            f'<option value="{n}"{" selected" if str(n) == chosen_size else ""}>{guests(n)}'
            "</option>"
            for n in range(low, high + 1)
        )
        size_field = (
            f'<select id="party-size" name="{PARTY_SIZE}"{size_attributes}>{options}</select>'
        )
    else:
        size_field = (
            f'<input type="number" id="party-size" name="{PARTY_SIZE}" min="{low}" max="{high}"'
            f' inputmode="numeric" value="{escape(chosen_size)}" required{size_attributes}>'
        )
    return (
        '<form method="get" class="day-and-size">'
        f'<label for="date">{LABELS[DATE]}</label>{date_message}'
        f'<input type="date" id="date" name="{DATE}" min="{window.first.isoformat()}" '
        f'max="{window.last.isoformat()}" value="{escape(values.get(DATE, ""))}" required'
        f"{date_attributes}>"
        f'<label for="party-size">{LABELS[PARTY_SIZE]}</label>{size_message}{size_field}'
        '<button type="submit" class="secondary">Show available times</button></form>'
    )


def _times(
    restaurant: Restaurant,
    window: Window,
    available: Availability,
    values: Mapping[str, str],
    problems: Problems,
) -> str:
    """Step two: the times that can seat the party, and the guest's details (a POST form)."""
    day, size = available.day, available.party_size
    heading = f"<h2>Times on {escape(_long_date(day))} for {guests(size)}</h2>"
    other_days = _other_days(window, day, size)
    if not available.seatings:
        note = f"The restaurant is closed on {_long_date(day)}. Choose another date."
        return heading + _info(note) + _next_open_day(restaurant, window, day, size) + other_days
    times = [s.starts_at.strftime("%H:%M") for s in available.seatings if s.available]
    if not times:
        note = f"No table for {guests(size)} is left on {_long_date(day)}. Choose another date" + (
            " or a smaller party." if size > restaurant.min_party_size else "."
        )
        return heading + _info(note) + other_days
    return heading + _details_form(times, values, problems) + other_days


def _details_form(times: list[str], values: Mapping[str, str], problems: Problems) -> str:
    time_message, time_attributes = _about(TIME, problems)
    chosen = values.get(TIME)
    choices = "".join(
        f'<label><input type="radio" name="{TIME}" value="{t}" required'
        f"{' checked' if t == chosen else ''}> {t}</label>"
        for t in times
    )
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{escape(values.get(name, ""))}">'
        for name in (KEY, DATE, PARTY_SIZE)
    )
    return (
        f'<form method="post" novalidate>{hidden}'
        f'<fieldset id="times" role="radiogroup"{time_attributes}><legend>Choose a time</legend>'
        f"{time_message}"
        f'<div class="choices">{choices}</div></fieldset>'
        "<fieldset><legend>Your details</legend>"
        + _text_field(
            NAME, "text", values, problems, 'autocomplete="name" maxlength="100" required'
        )
        + _text_field(
            EMAIL,
            "email",
            values,
            problems,
            'autocomplete="email" maxlength="254" required',
            hint="The restaurant answers at this address.",
        )
        + _text_field(
            PHONE,
            "tel",
            values,
            problems,
            'autocomplete="tel" maxlength="30"',
            hint="With the country code, like +44 20 7946 0958.",
        )
        + _notes(values, problems)
        + "</fieldset>"
        '<button type="submit">Send booking request</button>'
        '<p class="muted">The restaurant answers by email. Nothing is booked until it '
        "accepts.</p></form>"
    )


def _text_field(
    field: str,
    kind: str,
    values: Mapping[str, str],
    problems: Problems,
    extra: str,
    hint: str | None = None,
) -> str:
    message, attributes = _about(field, problems, hint)
    ident = _field_id(field)
    return (
        f'<label for="{ident}">{LABELS[field]}</label>{message}'
        f'<input type="{kind}" id="{ident}" name="{field}" value="{escape(values.get(field, ""))}"'
        f" {extra}{attributes}>"
    )


def _notes(values: Mapping[str, str], problems: Problems) -> str:
    message, attributes = _about(NOTES, problems, "Allergies, a high chair, an occasion…")
    return (
        f'<label for="notes">{LABELS[NOTES]}</label>{message}'
        f'<textarea id="notes" name="{NOTES}" rows="3" maxlength="500"{attributes}>'
        f"{escape(values.get(NOTES, ''))}</textarea>"
    )


def _info(text: str) -> str:
    return f'<p class="notice" role="status">{escape(text)}</p>'


def _day_href(day: date, party_size: int) -> str:
    """This page for another date: only the query changes, so the link keeps the path."""
    return "?" + urlencode({DATE: day.isoformat(), PARTY_SIZE: party_size})


def _other_days(window: Window, day: date, party_size: int) -> str:
    links = []
    previous, following = day - timedelta(days=1), day + timedelta(days=1)
    if window.holds(previous):
        text = escape("← " + previous.strftime("%a %-d %b"))
        links.append(f'<a href="{escape(_day_href(previous, party_size))}">{text}</a>')
    if window.holds(following):
        text = escape(following.strftime("%a %-d %b") + " →")
        links.append(f'<a href="{escape(_day_href(following, party_size))}">{text}</a>')
    return f'<nav class="days" aria-label="Other dates">{"".join(links)}</nav>' if links else ""


def _next_open_day(restaurant: Restaurant, window: Window, day: date, party_size: int) -> str:
    """A closed day: the next day the restaurant opens (from its hours; no table lookup)."""
    following = day + timedelta(days=1)
    while window.holds(following):
        if seatings(restaurant, following):
            link = escape(_day_href(following, party_size))
            text = f"Next open day: {_long_date(following)}"
            return f'<p><a href="{link}">{escape(text)}</a></p>'
        following += timedelta(days=1)
    return ""


# -- the answer ------------------------------------------------------------------------------


def _received(restaurant: Restaurant, booking: Booking) -> Response:
    reservation = booking.reservation
    manage = href(manage_url("", restaurant.id, reservation.id, booking.manage_token))
    again = (
        '<p class="muted">This request had already reached the restaurant: it was not sent '
        "twice.</p>"
        if booking.replayed
        else ""
    )
    # (A replay may find the guest's details removed since: the reservation is over.)
    address = f", at {reservation.guest.email}" if reservation.guest else ""
    body = (
        '<p class="notice" role="status">The restaurant will answer by email'
        f"{escape(address)}.</p>{again}"
        f"{summary(reservation)}"
        "<h2>Your reservation's page</h2>"
        f'<p><a href="{escape(manage)}">See the answer or cancel your reservation</a></p>'
        '<p class="muted">Keep this link: it opens your reservation without a password, so '
        "share it only with people who may change it. The restaurant's answer by email links to "
        "it too.</p>"
    )
    return page("Request received", body, restaurant.name)
