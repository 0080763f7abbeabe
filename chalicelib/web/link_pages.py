"""The pages behind email links: staff accept/decline, and the guest's manage page.

Opening a link (GET) only shows the reservation: mail scanners and link previews fetch links.
A button on the page POSTs back to the same URL; doing it twice shows the current status
instead of an error. A guest confirms before cancelling.
"""

from __future__ import annotations

from html import escape

from chalice.app import Response

from chalicelib.domain.errors import Invalid, InvalidTransition
from chalicelib.domain.reservations import Reservation, Status
from chalicelib.services.booking import ReservationDesk, RestaurantAdmin
from chalicelib.web.access import Access
from chalicelib.web.pages import PAST_TENSE, error_page, get_form, page, post_form, summary
from chalicelib.web.routes import CANCEL_STEP, MANAGE_TOKEN
from chalicelib.web.wording import message_for

_ASK_BEFORE_CANCELLING = "cancel"  # ?step=cancel


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
                done = self._desk.decline(restaurant_id, reservation_id, reason)
        except InvalidTransition:
            return _current(self._desk.get(restaurant_id, reservation_id), name)
        verb = PAST_TENSE[done.status]
        return page(
            f"Reservation {verb}",
            summary(done) + "<p>The guest will receive an email shortly.</p>",
            name,
        )


class GuestManagePages:
    def __init__(self, desk: ReservationDesk, restaurants: RestaurantAdmin) -> None:
        self._desk = desk
        self._restaurants = restaurants

    def show(
        self, restaurant_id: str, reservation_id: str, *, step: str | None, token: str | None
    ) -> Response:
        """The reservation; with `step=cancel`, the question before cancelling."""
        reservation = self._desk.get(restaurant_id, reservation_id)
        name = self._restaurants.get(restaurant_id).name
        credentials = {MANAGE_TOKEN: token} if token else {}
        if reservation.status not in (Status.PENDING, Status.ACCEPTED):
            return page("Your reservation", summary(reservation), name)
        if step == _ASK_BEFORE_CANCELLING:
            keep = get_form("No, keep my reservation", credentials)
            body = (
                summary(reservation)
                + "<p>The restaurant will be told and the table given to someone else.</p>"
                + post_form("Yes, cancel my reservation")
                + keep
            )
            return page("Cancel this reservation?", body, name)
        ask = get_form(
            "Cancel my reservation…", {**credentials, CANCEL_STEP: _ASK_BEFORE_CANCELLING}
        )
        return page("Your reservation", summary(reservation) + ask, name)

    def cancel(self, restaurant_id: str, reservation_id: str, by: str) -> Response:
        name = self._restaurants.get(restaurant_id).name
        try:
            done = self._desk.cancel(restaurant_id, reservation_id, by=by)
        except InvalidTransition:
            return _current(self._desk.get(restaurant_id, reservation_id), name)
        except Invalid as error:
            return page("Your reservation", f"<p>{escape(message_for(error))}</p>", name, 409)
        body = summary(done) + "<p>The restaurant has been told. You will get an email too.</p>"
        return page("Reservation cancelled", body, name)


def _current(reservation: Reservation, restaurant: str) -> Response:
    return page(
        f"This reservation was already {PAST_TENSE[reservation.status]}",
        summary(reservation) + '<p class="muted">Nothing was changed.</p>',
        restaurant,
    )


# What a person who opened a link reads when it cannot be used. The API's own messages speak to
# developers (headers, parameters); these speak to people.
_UNREADABLE = "This request could not be read. Open the link again from your email."
_GUEST_WORDS = {
    401: "This link is incomplete. Open it again from your email; if you copied it, part of "
    "it may be missing.",
    403: "This link does not open this reservation. Open it again from your email; if you "
    "copied it, part of it may be missing.",
    404: "We could not find this reservation. Check the link in your email, or contact the "
    "restaurant.",
}


def person_error_page(
    access: Access, status: int, message: str, restaurant: str | None
) -> Response:
    """The error page for someone who followed an email link (`message` is the API's)."""
    if status in (400, 413, 415, 422):
        text = _UNREADABLE
    elif access in (Access.STAFF_LINK, Access.STAFF_SESSION, Access.STAFF_SIGN_IN):
        text = message  # the staff link's own words (chalicelib.web.links) are written for people
    else:
        text = _GUEST_WORDS.get(status, message)
    return error_page(status, text, restaurant)
