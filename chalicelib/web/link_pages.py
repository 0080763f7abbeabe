"""The pages behind email links: staff accept/decline, and the guest's manage page.

Opening a link (GET) only shows the reservation: mail scanners and link previews fetch links.
A button on the page POSTs back to the same URL; doing it twice shows the current status
instead of an error. A guest confirms before cancelling, and before removing their details
(offered once the reservation is over).
"""

from __future__ import annotations

from html import escape

from chalice.app import Response

from chalicelib.domain.errors import Conflict, Invalid, InvalidTransition
from chalicelib.domain.reservations import DeclineReservation, Reservation, Status
from chalicelib.services.booking import ReservationDesk, RestaurantAdmin
from chalicelib.services.guest_details import GuestDetails
from chalicelib.web.access import Access
from chalicelib.web.pages import (
    PAST_TENSE,
    error_page,
    get_form,
    href,
    page,
    post_form,
    summary,
)
from chalicelib.web.routes import (
    BOOK,
    CANCEL_STEP,
    MANAGE_INTENT,
    MANAGE_TOKEN,
    REMOVE_DETAILS,
    STAFF_SIGN_IN,
)
from chalicelib.web.wording import message_for

_ASK_BEFORE_CANCELLING = "cancel"  # ?step=cancel
_ASK_BEFORE_REMOVING = "remove"  # ?step=remove


class StaffResponsePages:
    def __init__(self, desk: ReservationDesk, restaurants: RestaurantAdmin) -> None:
        self._desk = desk
        self._restaurants = restaurants

    def show(self, restaurant_id: str, reservation_id: str, action: str) -> Response:
        reservation = self._desk.get(restaurant_id, reservation_id)
        name = self._restaurants.get(restaurant_id).name
        if reservation.status is not Status.PENDING:
            return _current(reservation, name)
        if action == "accept":
            body = summary(reservation) + post_form("Accept reservation")
            return page("Accept this booking request?", body, name)
        body = summary(reservation) + post_form("Decline reservation", with_reason=True)
        return page("Decline this booking request?", body, name)

    def act(
        self, restaurant_id: str, reservation_id: str, action: str, reason: str | None
    ) -> Response:
        name = self._restaurants.get(restaurant_id).name
        try:
            if action == "accept":
                done = self._desk.accept(restaurant_id, reservation_id)
            else:
                # Checked as the API checks it: at most 500 characters, no control characters.
                checked = DeclineReservation(reason=reason or None).reason
                done = self._desk.decline(restaurant_id, reservation_id, checked)
        except InvalidTransition:
            return _current(self._desk.get(restaurant_id, reservation_id), name)
        verb = PAST_TENSE[done.status]
        return page(
            f"Reservation {verb}",
            summary(done) + "<p>The guest will receive an email shortly.</p>",
            name,
        )


class GuestManagePages:
    def __init__(
        self, desk: ReservationDesk, restaurants: RestaurantAdmin, details: GuestDetails
    ) -> None:
        self._desk = desk
        self._restaurants = restaurants
        self._details = details

    def show(
        self, restaurant_id: str, reservation_id: str, *, step: str | None, token: str | None
    ) -> Response:
        """The reservation; with `step=cancel` the question before cancelling, with
        `step=remove` the one before removing the guest's details (once it is over)."""
        reservation = self._desk.get(restaurant_id, reservation_id)
        name = self._restaurants.get(restaurant_id).name
        credentials = {MANAGE_TOKEN: token} if token else {}
        if self._details.can_remove(reservation):
            if step == _ASK_BEFORE_REMOVING:
                return _question(
                    "Remove your details?",
                    reservation,
                    "Your name, email address, phone number and notes will be deleted from "
                    "this reservation. The restaurant keeps only the date, the time and the "
                    "number of guests, for its counts. This cannot be undone.",
                    post_form("Yes, remove my details", fields={MANAGE_INTENT: REMOVE_DETAILS}),
                    get_form("No, keep my details", credentials, secondary=True),
                    name,
                )
            retention = (
                "<p>Your name, contact details and notes are removed on their own "
                f"{self._details.retention_days} days after the date of this reservation; you "
                "can remove them now.</p>"
            )
            offer = _offer("Remove my details…", _ASK_BEFORE_REMOVING, credentials)
            body = summary(reservation) + retention + offer + _book_again(restaurant_id)
            return page("Your reservation", body, name)
        cancellable = reservation.status in (Status.PENDING, Status.ACCEPTED)
        if reservation.guest_details_removed or not cancellable:
            return page("Your reservation", summary(reservation) + _book_again(restaurant_id), name)
        if step == _ASK_BEFORE_CANCELLING:
            return _question(
                "Cancel this reservation?",
                reservation,
                "The restaurant will be told and the table given to someone else.",
                post_form("Yes, cancel my reservation"),
                get_form("No, keep my reservation", credentials, secondary=True),
                name,
            )
        offer = _offer("Cancel my reservation…", _ASK_BEFORE_CANCELLING, credentials)
        return page("Your reservation", summary(reservation) + offer, name)

    def answer(
        self, restaurant_id: str, reservation_id: str, intent: str | None, by: str
    ) -> Response:
        """The page's form sent: remove the guest's details, or (the cancel form) cancel."""
        if intent == REMOVE_DETAILS:
            return self._remove(restaurant_id, reservation_id, by)
        return self._cancel(restaurant_id, reservation_id, by)

    def _cancel(self, restaurant_id: str, reservation_id: str, by: str) -> Response:
        name = self._restaurants.get(restaurant_id).name
        try:
            done = self._desk.cancel(restaurant_id, reservation_id, by=by)
        except InvalidTransition:
            return _current(self._desk.get(restaurant_id, reservation_id), name)
        except (Invalid, Conflict) as error:
            problem = f'<p class="error" role="alert">{escape(_sentence(message_for(error)))}</p>'
            return page("Your reservation", problem, name, 409)
        body = (
            '<p class="notice" role="status">The restaurant has been told. You will get an email '
            "too.</p>" + summary(done) + _book_again(restaurant_id)
        )
        return page("Reservation cancelled", body, name)

    def _remove(self, restaurant_id: str, reservation_id: str, by: str) -> Response:
        name = self._restaurants.get(restaurant_id).name
        try:
            done = self._details.remove(restaurant_id, reservation_id, by=by)
        except Conflict as error:  # not over yet (the page offers it only once it is)
            problem = f'<p class="error" role="alert">{escape(_sentence(message_for(error)))}</p>'
            current = summary(self._desk.get(restaurant_id, reservation_id))
            return page("Your reservation", problem + current, name, 409)
        body = (
            '<p class="notice" role="status">Your name, email address, phone number and notes '
            "were deleted from this reservation.</p>" + summary(done) + _book_again(restaurant_id)
        )
        return page("Your details were removed", body, name)


def _question(
    title: str, reservation: Reservation, what_happens: str, yes: str, no: str, restaurant: str
) -> Response:
    """The question a guest answers before a change that cannot be undone."""
    body = summary(reservation) + f"<p>{escape(what_happens)}</p>" + yes + no
    return page(title, body, restaurant)


def _offer(button: str, step: str, credentials: dict[str, str]) -> str:
    """The button that opens this page again asking the question of `step`."""
    return get_form(button, {**credentials, CANCEL_STEP: step}, secondary=True)


def _book_again(restaurant_id: str) -> str:
    booking_page = href(BOOK.format(restaurant_id=restaurant_id))
    return f'<p><a href="{escape(booking_page)}">Book another table</a></p>'


def _sentence(text: str) -> str:
    """An error's message as a sentence (they start in lower case, for the API)."""
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _current(reservation: Reservation, restaurant: str) -> Response:
    return page(
        f"This reservation was already {PAST_TENSE[reservation.status]}",
        '<p class="notice" role="status">Nothing was changed.</p>' + summary(reservation),
        restaurant,
    )


# What a person who opened a link reads when it cannot be used. The API's own messages speak to
# developers (headers, parameters); these speak to people, and say what to do next.
_UNREADABLE = "This request could not be read. Open the link again from your email."
_PUBLIC_WORDS = {
    404: (
        "Restaurant not found",
        "We could not find this restaurant. Check the page's address, or ask the restaurant "
        "for the link to its booking page.",
    ),
    400: (
        "This page cannot be shown",
        "What was sent could not be read. Go back to the page, check the details and send "
        "them again.",
    ),
}
_TOO_LONG = (
    "What was sent is too long to be read. Go back to the page, shorten what you wrote and "
    "send it again."
)
_GUEST_WORDS = {
    401: "This link is incomplete. Open it again from your email; if you copied it, part of "
    "it may be missing.",
    403: "This link does not open this reservation. Open it again from your email; if you "
    "copied it, part of it may be missing.",
    404: "We could not find this reservation. Check the link in your email, or contact the "
    "restaurant.",
}


def person_error_page(
    access: Access,
    status: int,
    message: str,
    restaurant: str | None,
    restaurant_id: str | None = None,
) -> Response:
    """The error page for a person in a browser (`message` is the API's): someone who followed
    an email link, or a guest on a public page (the booking page)."""
    if status == 413:
        return error_page(status, _TOO_LONG, restaurant, "This page cannot be shown")
    if access is Access.PUBLIC:
        key = 400 if status in (400, 413, 415, 422) else status
        title, text = _PUBLIC_WORDS.get(key, ("This page cannot be shown", message))
        return error_page(status, text, restaurant, title)
    if status in (400, 413, 415, 422):
        text = _UNREADABLE
    elif access in (Access.STAFF_SESSION, Access.STAFF_SIGN_IN) and restaurant is not None:
        # Written for people (services.staff_sessions, web.links); the way back in is a link.
        assert restaurant_id is not None
        sign_in = href(STAFF_SIGN_IN.format(restaurant_id=restaurant_id))
        body = (
            f'<p class="error" role="alert">{escape(message)}</p>'
            f'<p><a href="{escape(sign_in)}">Ask for a sign-in link</a></p>'
        )
        return page("Staff sign-in needed", body, restaurant, status)
    elif access in (Access.STAFF_LINK, Access.STAFF_SESSION, Access.STAFF_SIGN_IN):
        text = message  # the staff link's own words (chalicelib.web.links) are written for people
    else:
        text = _GUEST_WORDS.get(status, message)
    return error_page(status, text, restaurant)
