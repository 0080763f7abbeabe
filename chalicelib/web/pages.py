"""Small HTML pages for people following email links (staff actions, guests' manage page).

Forms carry no `action`: a browser then submits to the very URL the person is on, with its
real path, API Gateway stage prefix and signed query string, on every deployment.
"""

from __future__ import annotations

from html import escape

from chalice.app import Response

from chalicelib.domain.reservations import Reservation, Status

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:34em;margin:2em auto;padding:0 1em;"
    "line-height:1.45}header{color:#555;font-size:.95em;margin-bottom:-.5em}"
    "button{font-size:1.1em;padding:.6em 1.2em;margin:.8em .4em 0 0;min-height:44px}"
    "textarea{width:100%;box-sizing:border-box;font:inherit}dt{font-weight:bold}"
    "dd{margin:0 0 .5em 0}.muted{color:#555}"
)

# What a status means to a person reading the page.
STATUS_WORDS: dict[Status, str] = {
    Status.PENDING: "Waiting for the restaurant's answer",
    Status.ACCEPTED: "Accepted: the table is booked",
    Status.DECLINED: "Declined by the restaurant",
    Status.CANCELLED: "Cancelled",
}
PAST_TENSE: dict[Status, str] = {
    Status.PENDING: "pending",
    Status.ACCEPTED: "accepted",
    Status.DECLINED: "declined",
    Status.CANCELLED: "cancelled",
}


def page(title: str, body_html: str, restaurant: str | None, status: int = 200) -> Response:
    """A whole page: the restaurant's name, a heading and the body (already escaped HTML)."""
    header = f"<header>{escape(restaurant)}</header>" if restaurant else ""
    full_title = f"{title} · {restaurant}" if restaurant else title
    html = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(full_title)}</title><style>{_STYLE}</style></head>"
        f"<body>{header}<main><h1>{escape(title)}</h1>{body_html}</main></body></html>"
    )
    return Response(
        body=html,
        status_code=status,
        headers={"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"},
    )


def summary(reservation: Reservation) -> str:
    guest = reservation.guest
    rows = [
        ("When", reservation.starts_at.strftime("%A %d %B %Y, %H:%M")),
        ("Party", _guests(reservation.party_size)),
        ("Guest", guest.name),
        ("Contact", ", ".join(x for x in (str(guest.email), guest.phone or "") if x)),
        ("Notes", reservation.notes or "(none)"),
        ("Status", STATUS_WORDS[reservation.status]),
    ]
    if reservation.status is Status.DECLINED and reservation.decline_reason:
        rows.append(("Reason", reservation.decline_reason))
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows)
    return f"<dl>{items}</dl>"


def _guests(party_size: int) -> str:
    return "1 guest" if party_size == 1 else f"{party_size} guests"


def post_form(button: str, with_reason: bool = False) -> str:
    """A form that POSTs back to this page's own URL (no action attribute)."""
    reason = (
        '<p><label for="reason">Reason for the guest (optional)</label><br>'
        '<textarea id="reason" name="reason" rows="3" maxlength="500"></textarea></p>'
        if with_reason
        else ""
    )
    return f'<form method="post">{reason}<button type="submit">{escape(button)}</button></form>'


def get_form(button: str, fields: dict[str, str]) -> str:
    """A form that opens this page again with `fields` as its query (no action attribute)."""
    hidden = "".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
        for name, value in fields.items()
    )
    return f'<form method="get">{hidden}<button type="submit">{escape(button)}</button></form>'


def error_page(status: int, message: str, restaurant: str | None = None) -> Response:
    return page("This link cannot be used", f"<p>{escape(message)}</p>", restaurant, status)
