"""The pages behind email links: staff accept/decline, and the guest's manage page.

Opening a link (GET) only shows the reservation: mail scanners and link previews fetch links.
The page's button POSTs; doing it twice shows the current status instead of an error.
"""

from __future__ import annotations

from html import escape

from chalice.app import Response

from chalicelib.errors import Invalid, InvalidTransition
from chalicelib.pages import form, page, summary
from chalicelib.reservations import Reservation, Status
from chalicelib.services import ReservationDesk


class StaffResponsePages:
    def __init__(self, desk: ReservationDesk) -> None:
        self._desk = desk

    def show(self, restaurant_id: str, reservation_id: str, action: str, url: str) -> Response:
        reservation = self._desk.get(restaurant_id, reservation_id)
        title = f"{action.capitalize()} this booking request?"
        if reservation.status is not Status.PENDING:
            return _current(reservation)
        button = "Accept reservation" if action == "accept" else "Decline reservation"
        return page(title, summary(reservation) + form(url, button, action == "decline"))

    def act(
        self, restaurant_id: str, reservation_id: str, action: str, reason: str | None
    ) -> Response:
        try:
            if action == "accept":
                done = self._desk.accept(restaurant_id, reservation_id)
            else:
                done = self._desk.decline(restaurant_id, reservation_id, reason)
        except InvalidTransition:
            return _current(self._desk.get(restaurant_id, reservation_id))
        verb = "accepted" if done.status is Status.ACCEPTED else "declined"
        return page(
            f"Reservation {verb}",
            summary(done) + "<p>The guest will receive an email shortly.</p>",
        )


class GuestManagePages:
    def __init__(self, desk: ReservationDesk) -> None:
        self._desk = desk

    def show(self, restaurant_id: str, reservation_id: str, url: str) -> Response:
        reservation = self._desk.get(restaurant_id, reservation_id)
        cancellable = reservation.status in (Status.PENDING, Status.ACCEPTED)
        action = form(url, "Cancel my reservation") if cancellable else ""
        return page("Your reservation", summary(reservation) + action)

    def cancel(self, restaurant_id: str, reservation_id: str, by: str) -> Response:
        try:
            done = self._desk.cancel(restaurant_id, reservation_id, by=by)
        except InvalidTransition:
            return _current(self._desk.get(restaurant_id, reservation_id))
        except Invalid as error:
            return page("Your reservation", f"<p>{escape(error.message)}</p>", 409)
        return page("Reservation cancelled", summary(done))


def _current(reservation: Reservation) -> Response:
    status = reservation.status.value.lower()
    return page(
        f"This reservation is already {status}",
        summary(reservation) + '<p class="muted">Nothing was changed.</p>',
    )
