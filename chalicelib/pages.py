"""Small HTML pages for people following email links (staff actions, guests' manage page)."""

from __future__ import annotations

from datetime import datetime
from html import escape

from chalice.app import Response

from chalicelib.reservations import Reservation

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:34em;margin:2em auto;padding:0 1em}"
    "button{font-size:1.1em;padding:.5em 1.2em;margin-top:1em}"
    "textarea{width:100%}dt{font-weight:bold}.muted{color:#666}"
)


def page(title: str, body_html: str, status: int = 200) -> Response:
    html = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body_html}</body></html>"
    )
    return Response(
        body=html,
        status_code=status,
        headers={"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"},
    )


def summary(reservation: Reservation) -> str:
    local = datetime.fromisoformat(reservation.starts_at.isoformat())
    guest = reservation.guest
    rows = [
        ("When", local.strftime("%A %d %B %Y, %H:%M")),
        ("Party", f"{reservation.party_size}"),
        ("Guest", guest.name),
        ("Contact", ", ".join(x for x in (str(guest.email), guest.phone or "") if x)),
        ("Notes", reservation.notes or "(none)"),
        ("Status", reservation.status.value),
    ]
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows)
    return f"<dl>{items}</dl>"


def form(action_url: str, button: str, with_reason: bool = False) -> str:
    reason = (
        '<p><label for="reason">Reason for the guest (optional)</label><br>'
        '<textarea id="reason" name="reason" rows="3" maxlength="500"></textarea></p>'
        if with_reason
        else ""
    )
    return (
        f'<form method="post" action="{escape(action_url)}">{reason}'
        f'<button type="submit">{escape(button)}</button></form>'
    )


def error_page(status: int, message: str) -> Response:
    return page("This link cannot be used", f"<p>{escape(message)}</p>", status)
