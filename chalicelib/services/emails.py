"""What the notification emails say. Pure: every value from a guest is escaped in HTML."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape

from chalicelib.domain.events import BusinessEvent, ReservationState
from chalicelib.domain.reservations import Status


@dataclass(frozen=True)
class Email:
    to: tuple[str, ...]
    subject: str
    text: str
    html: str
    reservation_id: str
    event_id: str
    correlation_id: str | None = None


def _when(state: ReservationState) -> tuple[str, str, str]:
    """(short date, long date, time) in the restaurant's local time."""
    local = datetime.fromisoformat(state.starts_at)
    return local.strftime("%a %d %b"), local.strftime("%A %d %B %Y"), local.strftime("%H:%M")


def _guests(n: int) -> str:
    return f"{n} guest" if n == 1 else f"{n} guests"


def _page(title: str, paragraphs: list[str]) -> str:
    body = "".join(paragraphs)
    return (
        '<!doctype html><html><body style="font-family:sans-serif;max-width:36em">'
        f"<h2>{escape(title)}</h2>{body}</body></html>"
    )


def staff_request_email(
    event: BusinessEvent,
    restaurant_name: str,
    staff_emails: tuple[str, ...],
    accept_url: str,
    decline_url: str,
) -> Email:
    state = event.reservation
    short, long, time = _when(state)
    guest = state.guest
    subject = f"Booking request: {guest.name}, {_guests(state.party_size)}, {short} {time}"
    contact = [f"Email: {guest.email}"] + ([f"Phone: {guest.phone}"] if guest.phone else [])
    notes = state.notes or "(none)"
    text = "\n".join(
        [
            f"{guest.name} asks for a table for {state.party_size} at {restaurant_name}",
            f"on {long} at {time}.",
            "",
            *contact,
            f"Notes: {notes}",
            "",
            f"Accept:  {accept_url}",
            f"Decline: {decline_url}",
            "",
            "Each link opens a page showing the request; nothing changes until you press its",
            "button. The links work until the seating time.",
        ]
    )
    html = _page(
        f"Booking request at {restaurant_name}",
        [
            f"<p><b>{escape(guest.name)}</b> asks for a table for "
            f"<b>{state.party_size}</b> on <b>{escape(long)}</b> at <b>{escape(time)}</b>.</p>",
            "<p>" + "<br>".join(escape(line) for line in contact) + "</p>",
            f"<p>Notes: {escape(notes)}</p>",
            f'<p><a href="{escape(accept_url)}">Accept</a> &nbsp; '
            f'<a href="{escape(decline_url)}">Decline</a></p>',
            '<p style="color:#666">Each link opens a page showing the request; nothing changes '
            "until you press its button. The links work until the seating time.</p>",
        ],
    )
    return Email(staff_emails, subject, text, html, state.id, event.event_id, event.correlation_id)


def guest_status_email(event: BusinessEvent, restaurant_name: str, manage_url: str) -> Email:
    """Accepted (with the manage link), declined (with the reason) or cancelled."""
    state = event.reservation
    short, long, time = _when(state)
    when = f"{long} at {time}"
    party = _guests(state.party_size)
    if state.status is Status.ACCEPTED:
        subject = f"Confirmed: your table at {restaurant_name}, {short} {time}"
        lines = [
            f"Good news, {state.guest.name}: your table for {party} at {restaurant_name} on "
            f"{when} is confirmed.",
            f"To view or cancel your reservation: {manage_url}",
        ]
    elif state.status is Status.DECLINED:
        subject = f"Your request at {restaurant_name} for {short} {time} was declined"
        reason = f" Reason: {state.decline_reason}" if state.decline_reason else ""
        lines = [
            f"Sorry, {state.guest.name}: {restaurant_name} cannot seat {party} on {when}." + reason,
            "You are welcome to book another time.",
        ]
    else:
        subject = f"Cancelled: your reservation at {restaurant_name}, {short} {time}"
        lines = [
            f"{state.guest.name}, your reservation for {party} at {restaurant_name} on {when} "
            "is cancelled.",
        ]
    html = _page(subject, [f"<p>{_linked(escape(line), manage_url)}</p>" for line in lines])
    text = "\n\n".join(lines)
    return Email(
        (state.guest.email,), subject, text, html, state.id, event.event_id, event.correlation_id
    )


def _linked(escaped_line: str, url: str) -> str:
    escaped_url = escape(url)
    return escaped_line.replace(escaped_url, f'<a href="{escaped_url}">{escaped_url}</a>')
