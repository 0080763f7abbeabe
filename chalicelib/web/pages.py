"""The pages people open in a browser: the shell every page shares, its stylesheet, and the
parts pages have in common (a reservation's summary, forms that post back to their own URL).

Forms carry no `action`: a browser then submits to the very URL the person is on, with its
real path, API Gateway stage prefix and signed query string, on every deployment. Links to
other paths of the app (the stylesheet, a reservation's page) are written relative to the
URL being answered (`href`), for the same reason.

Every page is sent with a Content-Security-Policy that allows no script and no inline style:
a page styles itself only through the stylesheet (classes, never `style=`).
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from html import escape
from pathlib import Path

from chalice.app import Response

from chalicelib.domain.errors import NotFound
from chalicelib.domain.reservations import Reservation, Status
from chalicelib.web.routes import STATIC

LANGUAGE = "en"
# Sent with every page; the headers every response carries (nosniff, no-referrer, since
# pages carry tokens in their URLs, DENY framing, HSTS) are added by `headers.secured`.
PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
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

# -- links relative to the page being answered -------------------------------------------

# How many directories the URL being answered lies below the app's root; None outside a page.
_DEPTH: ContextVar[int | None] = ContextVar("page_depth", default=None)


@contextmanager
def answering(route: str, request_path: str | None) -> Iterator[None]:
    """While a page is built for a request to `route` (the route's template, as Chalice and
    API Gateway name the resource): `href` writes links relative to it. `request_path` is the
    URL's path as sent; a trailing slash (which API Gateway accepts) adds a directory."""
    depth = route.strip("/").count("/")
    if request_path and route != "/" and request_path != "/" and request_path.endswith("/"):
        depth += 1
    token = _DEPTH.set(depth)
    try:
        yield
    finally:
        _DEPTH.reset(token)


def href(app_path: str) -> str:
    """A link to `app_path` (a path as the app's routes see it, e.g. `/static/…`) from the page
    being built. Relative, so it keeps whatever prefix the page's own URL has: API Gateway's
    stage (`/api/…`) or a custom domain's base path. Outside a request: the path itself."""
    depth = _DEPTH.get()
    if depth is None:
        return app_path
    return ("../" * depth or "./") + app_path.lstrip("/")


# -- the stylesheet ------------------------------------------------------------------------

_STYLESHEET = Path(__file__).with_name("static") / "style.css"
_ASSET_NAME = re.compile(r"^style\.[0-9a-f]{16}\.css$")
YEAR = 365 * 24 * 3600
RECENT = 300  # seconds: a page from before a deploy may still ask for an older name


@dataclass(frozen=True)
class Asset:
    name: str  # "style.<content hash>.css": a new stylesheet is a new URL
    text: str
    etag: str


@functools.cache
def stylesheet() -> Asset:
    """The pages' stylesheet, read once per process (on the first page, not at import)."""
    text = _STYLESHEET.read_text(encoding="utf-8")
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return Asset(f"style.{digest}.css", text, f'"{digest}"')


def stylesheet_href() -> str:
    return href(STATIC.format(asset=stylesheet().name))


def stylesheet_response(asset: str, if_none_match: str | None) -> Response:
    """GET /static/{asset}. The current name is cached for a year (its content never changes
    under it); an older style.*.css name, asked by a page rendered before a deploy, gets the
    current stylesheet for a few minutes; any other name is not found."""
    current = stylesheet()
    if not _ASSET_NAME.match(asset):
        raise NotFound("file", asset, field="asset")
    if asset == current.name:
        cache = f"public, max-age={YEAR}, immutable"
    else:
        cache = f"public, max-age={RECENT}"
    headers: dict[str, str | list[str]] = {
        "Content-Type": "text/css; charset=utf-8",
        "Cache-Control": cache,
        "ETag": current.etag,
    }
    if if_none_match and current.etag in (tag.strip() for tag in if_none_match.split(",")):
        return Response(body="", status_code=304, headers=headers)
    return Response(body=current.text, status_code=200, headers=headers)


# -- the shell -----------------------------------------------------------------------------


def page(title: str, body_html: str, restaurant: str | None, status: int = 200) -> Response:
    """A whole page: the restaurant's name, one h1 and the body (already escaped HTML)."""
    header = f"<header><p>{escape(restaurant)}</p></header>" if restaurant else ""
    full_title = f"{title} · {restaurant}" if restaurant else title
    html = (
        f'<!doctype html><html lang="{LANGUAGE}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(full_title)}</title>"
        f'<link rel="stylesheet" href="{escape(stylesheet_href())}"></head>'
        f"<body>{header}<main><h1>{escape(title)}</h1>{body_html}</main></body></html>"
    )
    return Response(
        body=html,
        status_code=status,
        headers={
            "Content-Type": "text/html; charset=utf-8",
            "Cache-Control": "no-store",
            "Content-Security-Policy": PAGE_POLICY,
        },
    )


def status_badge(status: Status) -> str:
    return (
        f'<span class="status status-{status.value.lower()}">{escape(STATUS_WORDS[status])}</span>'
    )


def guest_name(reservation: Reservation) -> str:
    """The guest's name, or what stands in its place once their details are removed."""
    return REMOVED_DETAILS if reservation.guest is None else reservation.guest.name


REMOVED_DETAILS = "(details removed)"


def summary(reservation: Reservation) -> str:
    """The reservation as label/value rows, its status as a badge."""
    guest = reservation.guest
    rows = [
        ("When", escape(reservation.starts_at.strftime("%A %d %B %Y, %H:%M"))),
        ("Party", escape(guests(reservation.party_size))),
    ]
    if guest is None:
        removed_at = reservation.guest_details_removed_at
        on = f" on {removed_at.strftime('%d %B %Y')}" if removed_at else ""
        rows.append(("Guest", escape(f"Name, contact and notes removed{on}")))
    else:
        contact = ", ".join(x for x in (str(guest.email), guest.phone or "") if x)
        rows += [
            ("Guest", escape(guest.name)),
            ("Contact", escape(contact)),
            ("Notes", escape(reservation.notes or "(none)")),
        ]
    rows.append(("Status", status_badge(reservation.status)))
    if reservation.status is Status.DECLINED and reservation.decline_reason:
        rows.append(("Reason", escape(reservation.decline_reason)))
    items = "".join(f"<dt>{escape(k)}</dt><dd>{v}</dd>" for k, v in rows)
    return f"<dl>{items}</dl>"


def guests(party_size: int) -> str:
    return "1 guest" if party_size == 1 else f"{party_size} guests"


def hidden_inputs(fields: dict[str, str]) -> str:
    """`fields` as a form's hidden inputs, names and values escaped."""
    return "".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
        for name, value in fields.items()
    )


def post_form(button: str, with_reason: bool = False, fields: dict[str, str] | None = None) -> str:
    """A form that POSTs back to this page's own URL (no action attribute), with `fields` as
    hidden inputs."""
    hidden = hidden_inputs(fields or {})
    reason = (
        '<label for="reason">Reason for the guest (optional)</label>'
        '<textarea id="reason" name="reason" rows="3" maxlength="500"></textarea>'
        if with_reason
        else ""
    )
    return (
        f'<form method="post">{hidden}{reason}<button type="submit">{escape(button)}</button>'
        "</form>"
    )


def get_form(button: str, fields: dict[str, str], secondary: bool = False) -> str:
    """A form that opens this page again with `fields` as its query (no action attribute)."""
    hidden = hidden_inputs(fields)
    kind = ' class="secondary"' if secondary else ""
    return (
        f'<form method="get">{hidden}<button type="submit"{kind}>{escape(button)}</button></form>'
    )


def error_page(
    status: int,
    message: str,
    restaurant: str | None = None,
    title: str = "This link cannot be used",
) -> Response:
    """A page that says what went wrong and what to do next (`message`, for people)."""
    return page(title, f'<p class="error" role="alert">{escape(message)}</p>', restaurant, status)
