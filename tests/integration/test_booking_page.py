"""The guest's booking page, used as a guest uses it: choose a date and a party size, pick one
of the times offered, type a name and an email address, press the button once (or twice, or
reload), read the answer and follow its link to the reservation's page. Through the test
client and behind API Gateway with its stage prefix, as on AWS.

Every page these tests open passes through `checked`: security headers, no script or inline
style (the Content-Security-Policy would block them), one h1, a label for every control. The
stylesheet those pages link is fetched from the link itself, and its colours are held to
WCAG AA contrast."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from chalicelib.wiring import bootstrap
from localdev.lambda_shapes import LocalLambdaContext
from tests.app.conftest import ADMIN, guest_request, upcoming_wednesday
from tests.browser import Browser, Page, Send, through_api_gateway, through_test_client
from tests.builders import restaurant_spec
from tests.pipeline import RES, Flow, sent_emails

HOST = "https://reservations.test"
BOOK = f"{HOST}/restaurants/bistro-a/book"
STAGE_URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/api"
PARIS = ZoneInfo("Europe/Paris")
DETAILS = {
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "phone": "+44 20 7946 0958",
    "notes": "Window <b>seat</b>, please",
}
TINY = "tiny-bistro"  # capacity 2: three bookings fill a Wednesday


# -- every page is held to the same rules ------------------------------------------------


def header(headers: dict[str, str], name: str) -> str:
    found = {k.lower(): v for k, v in headers.items()}.get(name.lower())
    assert found is not None, f"{name} missing from {headers}"
    return found


class _Controls(HTMLParser):
    """Form controls, whether each has a label, and the h1s."""

    def __init__(self) -> None:
        super().__init__()
        self.unlabelled: list[str] = []
        self.labelled_ids: set[str] = set()
        self.ids: list[str] = []
        self.h1s = 0
        self._in_label = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        if tag == "label":
            self._in_label += 1
            if "for" in attributes:
                self.labelled_ids.add(attributes["for"])
        elif tag == "h1":
            self.h1s += 1
        elif tag in ("input", "select", "textarea"):
            if attributes.get("type") in ("hidden", "submit", "button"):
                return
            if self._in_label:
                return
            self.ids.append(attributes.get("id", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._in_label -= 1


def assert_page_rules(url: str, headers: dict[str, str], html: str) -> None:
    policy = header(headers, "Content-Security-Policy")
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["style-src"] == "'self'" and "script-src" not in directives
    assert directives["frame-ancestors"] == "'none'" and directives["base-uri"] == "'none'"
    assert directives["form-action"] == "'self'"
    assert header(headers, "X-Content-Type-Options") == "nosniff"
    assert header(headers, "Referrer-Policy") == "no-referrer"
    assert header(headers, "X-Frame-Options") == "DENY"
    assert header(headers, "Cache-Control") == "no-store"
    lowered = html.lower()
    for inline in ("<script", "style=", "<style"):
        assert inline not in lowered, f"{inline} on {url}"
    assert lowered.startswith('<!doctype html><html lang="en">'), url
    controls = _Controls()
    controls.feed(html)
    assert controls.h1s == 1, url
    unlabelled = [i for i in controls.ids if i not in controls.labelled_ids]
    assert not unlabelled, f"controls without a label on {url}: {unlabelled}"


def checked(send: Send) -> Send:
    """`send`, with every HTML page it brings back held to `assert_page_rules`."""

    def check(method: str, url: str, headers: dict[str, str], body: bytes) -> Any:
        status, reply_headers, text = send(method, url, headers, body)
        assert status < 500, (method, url, status, text)
        if header(reply_headers, "Content-Type").startswith("text/html"):
            assert_page_rules(url, reply_headers, text)
        return status, reply_headers, text

    return check


@pytest.fixture
def browser(flow: Flow) -> Browser:
    return Browser(checked(through_test_client(flow.api.client)))


def on_stage(flow: Flow) -> Browser:
    context = LocalLambdaContext("api_handler")
    return Browser(checked(through_api_gateway(flow.pipeline.app.app, "api", context)))


# -- reading pages -------------------------------------------------------------------------


class _Elements(HTMLParser):
    """Each element with an id: its attributes and its text."""

    def __init__(self) -> None:
        super().__init__()
        self.attributes: dict[str, dict[str, str]] = {}
        self.text: dict[str, str] = {}
        self._open: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        ident = attributes.get("id")
        if ident:
            self.attributes[ident] = attributes
            self.text[ident] = ""
        if tag not in ("input", "br", "meta", "link"):
            self._open.append((tag, ident))

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            if self._open.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        for _, ident in self._open:
            if ident:
                self.text[ident] += data


def elements(page: Page) -> _Elements:
    parser = _Elements()
    parser.feed(page.html)
    return parser


def said_next_to(page: Page, control_id: str) -> str:
    """What the messages tied to a control (aria-describedby) say, when it is marked invalid."""
    found = elements(page)
    control = found.attributes[control_id]
    assert control.get("aria-invalid") == "true", control
    return " ".join(found.text[i] for i in control["aria-describedby"].split())


def times_offered(page: Page) -> list[str]:
    return page.form("Send booking request").choices["time"]


def times_from_the_api(
    flow: Flow, day: date, party_size: int, restaurant: str = "bistro-a"
) -> list[str]:
    status, body, _ = flow.api.call(
        "GET", f"/restaurants/{restaurant}/availability?date={day}&party_size={party_size}"
    )
    assert status == 200, body
    return [slot["starts_at"][11:16] for slot in body["slots"] if slot["available"]]


def day_sheet(flow: Flow, day: date, restaurant: str = "bistro-a") -> list[dict[str, Any]]:
    headers = flow.staff if restaurant == "bistro-a" else ADMIN
    status, body, _ = flow.api.call(
        "GET", f"/restaurants/{restaurant}/reservations?date={day}", None, headers
    )
    assert status == 200, body
    return list(body["reservations"])


def times_page(browser: Browser, url: str, day: date, party_size: int = 2) -> Page:
    opened = browser.open(url)
    assert opened.status == 200, opened.text
    shown = browser.submit(
        opened, "Show available times", date=day.isoformat(), party_size=str(party_size)
    )
    assert shown.status == 200, shown.text
    return shown


@pytest.fixture
def tiny(flow: Flow) -> str:
    """A restaurant with room for two: a booking at 12:00, 19:00 and 20:30 fills a day."""
    spec = restaurant_spec(TINY, name="Tiny Bistro", capacity=2, max_party_size=2)
    status, body, _ = flow.api.call("POST", "/restaurants", spec.model_dump(mode="json"), ADMIN)
    assert status == 201, body
    return TINY


def book_by_api(flow: Flow, restaurant: str, hhmm: str, party_size: int = 2) -> None:
    path = f"/restaurants/{restaurant}/reservations"
    status, body, _ = flow.api.call("POST", path, guest_request(hhmm, party_size))
    assert status == 201, body


# -- booking -------------------------------------------------------------------------------


def test_guest_books_a_table_on_the_page(flow: Flow, browser: Browser) -> None:
    wednesday = upcoming_wednesday()
    for _ in range(5):  # 40 covers at noon: no lunch seating is left for anyone
        book_by_api(flow, "bistro-a", "12:00", party_size=8)

    opened = browser.open(BOOK)
    assert opened.status == 200 and "Book a table" in opened.text and "Chez Test" in opened.text
    today = datetime.now(PARIS).date()
    date_field = elements(opened).attributes["date"]
    assert (date_field["type"], date_field["min"], date_field["max"], date_field["value"]) == (
        "date",
        today.isoformat(),
        (today + timedelta(days=60)).isoformat(),
        today.isoformat(),
    )
    sizes = opened.form("Show available times").choices["party_size"]
    assert sizes == [str(n) for n in range(1, 9)]  # the restaurant's party sizes
    assert opened.form("Show available times").fields["party_size"] == "2"

    shown = browser.submit(opened, "Show available times", date=wednesday.isoformat())
    offered = times_offered(shown)
    assert offered == times_from_the_api(flow, wednesday, 2)  # the API's availability
    assert "12:00" not in offered and "19:30" in offered
    form = elements(shown).attributes
    assert form["name"]["autocomplete"] == "name" and form["email"]["autocomplete"] == "email"
    assert (form["phone"]["type"], form["phone"]["autocomplete"]) == ("tel", "tel")
    assert form["times"]["role"] == "radiogroup" and "<legend>Choose a time</legend>" in shown.html

    received = browser.submit(shown, "Send booking request", time="19:30", **DETAILS)
    assert received.status == 200, received.text
    assert "Request received" in received.text
    assert "The restaurant will answer by email" in received.text
    assert "Waiting for the restaurant's answer" in received.text
    assert 'class="status status-pending"' in received.html
    assert "Window <b>seat</b>, please" in received.text and "<b>seat" not in received.html

    [booked] = [r for r in day_sheet(flow, wednesday) if r["guest"]["name"] == "Ada Lovelace"]
    assert booked["starts_at"].startswith(f"{wednesday}T19:30")
    assert (booked["party_size"], booked["status"]) == (2, "PENDING")
    assert booked["guest"] == {
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "phone": "+442079460958",
    }

    manage = browser.open(received.link("See the answer or cancel your reservation"))
    assert manage.status == 200 and "Your reservation" in manage.text
    assert urlsplit(manage.url).path == f"{RES}/{booked['id']}/manage"
    question = browser.submit(manage, "Cancel my reservation…")
    assert "Cancel this reservation?" in question.text

    flow.pipeline.drain()
    about = [e for e in sent_emails() if e.headers["X-Reservation-Id"] == booked["id"]]
    assert [e.subject.split(":")[0] for e in about] == ["Booking request", "Request received"]


def test_booking_behind_api_gateway_with_the_stage_prefix(flow: Flow) -> None:
    browser = on_stage(flow)
    wednesday = upcoming_wednesday()
    shown = times_page(browser, f"{STAGE_URL}/restaurants/bistro-a/book", wednesday)
    assert urlsplit(shown.url).path == "/api/restaurants/bistro-a/book"
    [stylesheet] = shown.stylesheets()
    assert re.fullmatch(rf"{STAGE_URL}/static/style\.[0-9a-f]{{16}}\.css", stylesheet)
    css = browser.open(stylesheet)
    assert css.status == 200 and header(css.headers, "Content-Type").startswith("text/css")

    form = shown.form("Send booking request")
    assert urlsplit(shown.target(form)).path == "/api/restaurants/bistro-a/book"
    received = browser.submit(shown, "Send booking request", time="20:00", **DETAILS)
    assert "Request received" in received.text, received.text
    manage_url = received.link("See the answer or cancel your reservation")
    assert urlsplit(manage_url).path.startswith("/api/restaurants/bistro-a/reservations/")
    manage = browser.open(manage_url)
    assert manage.status == 200 and "Your reservation" in manage.text
    assert manage.stylesheets() == [stylesheet]  # five directories down, the same file

    # API Gateway serves a path with a trailing slash too: the links still hold.
    slashed = browser.open(f"{STAGE_URL}/restaurants/bistro-a/book/")
    assert slashed.status == 200 and slashed.stylesheets() == [stylesheet]


def test_pressing_twice_or_reloading_makes_one_reservation(flow: Flow, browser: Browser) -> None:
    wednesday = upcoming_wednesday()
    shown = times_page(browser, BOOK, wednesday)

    first = browser.submit(shown, "Send booking request", time="19:00", **DETAILS)
    again = browser.submit(shown, "Send booking request", time="19:00", **DETAILS)
    assert "Request received" in first.text and "Request received" in again.text
    assert "it was not sent twice" in again.text and "not sent twice" not in first.text
    link = "See the answer or cancel your reservation"
    assert first.link(link) == again.link(link)  # the same reservation
    assert len(day_sheet(flow, wednesday)) == 1

    # Another visit to the page is another form: a second request is a second booking. And a
    # link cannot choose the key (whoever knows a key can replay its booking's answer).
    used = shown.form("Send booking request").fields["idempotency_key"]
    other = times_page(browser, BOOK, wednesday)
    assert other.form("Send booking request").fields["idempotency_key"] != used
    planted = browser.open(f"{other.url}&idempotency_key={used}")
    assert planted.form("Send booking request").fields["idempotency_key"] != used
    flow.pipeline.drain()
    assert len([e for e in sent_emails() if e.subject.startswith("Booking request")]) == 1


def test_mistakes_come_back_next_to_their_fields(flow: Flow, browser: Browser) -> None:
    wednesday = upcoming_wednesday()
    shown = times_page(browser, BOOK, wednesday)
    key = shown.form("Send booking request").fields["idempotency_key"]

    wrong = browser.submit(
        shown,
        "Send booking request",
        name="  ",
        email="ada at example",
        phone="0612",
        notes="n" * 501,
    )
    assert wrong.status == 422, wrong.text
    assert 'role="alert"' in wrong.html and "There is a problem" in wrong.text
    assert "Choose one of the times" in said_next_to(wrong, "times")
    assert "Enter your name" in said_next_to(wrong, "name")
    assert "like name@example.com" in said_next_to(wrong, "email")
    assert "country code" in said_next_to(wrong, "phone")
    assert "500 characters" in said_next_to(wrong, "notes")
    kept = wrong.form("Send booking request").fields
    assert (kept["email"], kept["phone"], kept["notes"]) == ("ada at example", "0612", "n" * 501)
    assert kept["idempotency_key"] == key  # nothing was sent: the same request still
    assert day_sheet(flow, wednesday) == []

    fixed = browser.submit(wrong, "Send booking request", time="21:00", **DETAILS)
    assert fixed.status == 200 and "Request received" in fixed.text, fixed.text
    assert len(day_sheet(flow, wednesday)) == 1


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("date=2026-02-30&party_size=2", "date"),
        ("date=2001-01-01&party_size=2", "date"),
        ("date=2999-01-01&party_size=2", "date"),
        ("date=&party_size=2", "date"),
        ("date={wednesday}&party_size=9", "party-size"),
        ("date={wednesday}&party_size=zwei", "party-size"),
        ("date={wednesday}&party_size=-1", "party-size"),
        ("party_size=2", "date"),
    ],
)
def test_a_date_or_party_size_out_of_reach_is_said_next_to_it(
    flow: Flow, browser: Browser, query: str, field: str
) -> None:
    url = f"{BOOK}?{query.format(wednesday=upcoming_wednesday())}"
    shown = browser.open(url)
    assert shown.status == 200, shown.text
    assert "Choose" in said_next_to(shown, field)
    assert not [f for f in shown.forms() if f.method == "post"]  # no times until it is right


def test_a_changed_date_in_the_sent_form_is_refused_next_to_the_date(
    flow: Flow, browser: Browser
) -> None:
    shown = times_page(browser, BOOK, upcoming_wednesday())
    past = browser.submit(shown, "Send booking request", time="19:00", date="2001-01-01", **DETAILS)
    assert past.status == 422 and "Choose a date from" in said_next_to(past, "date")
    assert day_sheet(flow, upcoming_wednesday()) == []


def test_a_closed_day_says_so_and_offers_the_next_open_day(flow: Flow, browser: Browser) -> None:
    tuesday = upcoming_wednesday() - timedelta(days=1)  # the test restaurant closes on Tuesdays
    closed = times_page(browser, BOOK, tuesday)
    assert "The restaurant is closed on" in closed.text
    assert not [f for f in closed.forms() if f.method == "post"]
    next_open = browser.open(closed.link("Next open day"))
    assert parse_qs(urlsplit(next_open.url).query)["date"] == [upcoming_wednesday().isoformat()]
    assert "19:30" in times_offered(next_open)
    earlier = browser.open(closed.link("←"))  # nav.days: the day before
    assert parse_qs(urlsplit(earlier.url).query)["date"] == [
        (tuesday - timedelta(days=1)).isoformat()
    ]


def test_a_fully_booked_day_says_so(flow: Flow, browser: Browser, tiny: str) -> None:
    wednesday = upcoming_wednesday()
    for hhmm in ("12:00", "19:00", "20:30"):
        book_by_api(flow, tiny, hhmm)
    assert times_from_the_api(flow, wednesday, 1, tiny) == []

    full = times_page(browser, f"{HOST}/restaurants/{tiny}/book", wednesday, party_size=2)
    assert "No table for 2 guests is left on" in full.text and "smaller party" in full.text
    assert "Tiny Bistro" in full.text
    assert not [f for f in full.forms() if f.method == "post"]
    following = browser.open(full.link("→"))
    assert "20:30" in times_offered(following)


def test_a_time_taken_while_the_guest_typed_is_refused_next_to_the_times(
    flow: Flow, browser: Browser, tiny: str
) -> None:
    wednesday = upcoming_wednesday()
    shown = times_page(browser, f"{HOST}/restaurants/{tiny}/book", wednesday)
    assert "19:00" in times_offered(shown)
    book_by_api(flow, tiny, "19:00")  # someone else, meanwhile

    taken = browser.submit(shown, "Send booking request", time="19:00", **DETAILS)
    assert taken.status == 409, taken.text
    assert "just been booked up" in said_next_to(taken, "times")
    assert "19:00" not in times_offered(taken) and "20:30" in times_offered(taken)
    assert taken.form("Send booking request").fields["name"] == "Ada Lovelace"

    booked = browser.submit(taken, "Send booking request", time="20:30")
    assert "Request received" in booked.text, booked.text
    assert [r["starts_at"][11:16] for r in day_sheet(flow, wednesday, tiny)] == ["19:00", "20:30"]


def test_the_same_form_sent_again_with_other_details_asks_once_more(
    flow: Flow, browser: Browser
) -> None:
    wednesday = upcoming_wednesday()
    shown = times_page(browser, BOOK, wednesday)
    browser.submit(shown, "Send booking request", time="19:00", **DETAILS)

    changed = browser.submit(shown, "Send booking request", time="20:00", **DETAILS)
    assert changed.status == 422 and "press the button again" in changed.text
    old_key = shown.form("Send booking request").fields["idempotency_key"]
    assert changed.form("Send booking request").fields["idempotency_key"] != old_key
    assert len(day_sheet(flow, wednesday)) == 1

    sent = browser.submit(changed, "Send booking request")
    assert "Request received" in sent.text, sent.text
    assert [r["starts_at"][11:16] for r in day_sheet(flow, wednesday)] == ["19:00", "20:00"]


def test_an_unknown_restaurant_gets_a_page_that_says_what_to_do(
    flow: Flow, browser: Browser
) -> None:
    missing = browser.open(f"{HOST}/restaurants/nowhere/book")
    assert missing.status == 404 and "Restaurant not found" in missing.text
    assert "ask the restaurant for the link to its booking page" in missing.text


# -- every page, and the stylesheet --------------------------------------------------------


def every_page(flow: Flow, browser: Browser) -> Iterator[Page]:
    """One of each page the app serves, as people reach them."""
    shown = times_page(browser, BOOK, upcoming_wednesday())
    yield browser.open(BOOK)
    yield shown
    yield browser.submit(shown, "Send booking request", name="")
    received = browser.submit(shown, "Send booking request", time="19:00", **DETAILS)
    yield received
    manage = browser.open(received.link("See the answer or cancel your reservation"))
    yield manage
    question = browser.submit(manage, "Cancel my reservation…")
    yield question
    yield browser.submit(question, "Yes, cancel my reservation")
    yield browser.open(f"{HOST}/restaurants/nowhere/book")
    yield browser.open(urlsplit(manage.url)._replace(query="").geturl())  # 401

    booked = flow.book(hhmm="20:00")
    flow.pipeline.drain()
    [request] = [
        e
        for e in sent_emails()
        if e.headers["X-Reservation-Id"] == booked["id"] and e.subject.startswith("Booking")
    ]
    accept = re.search(r"^Accept:\s+(\S+)$", request.text, flags=re.MULTILINE)
    assert accept, request.text
    staff = browser.open(accept.group(1))
    yield staff
    yield browser.submit(staff, "Accept reservation")

    links = bootstrap.wiring().staff_links
    sign_in = browser.open(
        links.day_view("bistro-a", ["chef@a.example"], upcoming_wednesday(), timedelta(days=1))
    )
    yield sign_in
    yield browser.submit(sign_in, "Open the bookings")
    yield browser.open(f"{HOST}/restaurants/bistro-a/staff/sign-in")


def test_every_page_is_sent_with_security_headers_and_no_inline_code(
    flow: Flow, browser: Browser
) -> None:
    pages = list(every_page(flow, browser))  # `checked` holds each to the rules
    assert len(pages) == 14
    assert [p.status for p in pages] == [200] * 2 + [422] + [200] * 4 + [404, 401] + [200] * 5
    titles = {h1 for p in pages for h1 in re.findall(r"<h1>(.*?)</h1>", p.html)}
    assert {"Book a table", "Request received", "Reservation cancelled"} <= titles
    assert any(t.startswith("Bookings, ") for t in titles)  # the staff day view is among them
    for each in pages:
        assert len(each.stylesheets()) == 1


def test_the_stylesheet_is_cached_by_its_content(flow: Flow, browser: Browser) -> None:
    [url] = browser.open(BOOK).stylesheets()
    send = through_test_client(flow.api.client)
    status, headers, css = send("GET", url, {}, b"")
    assert status == 200 and header(headers, "Content-Type") == "text/css; charset=utf-8"
    assert header(headers, "Cache-Control") == "public, max-age=31536000, immutable"
    assert header(headers, "X-Content-Type-Options") == "nosniff"
    etag = header(headers, "ETag")
    assert etag.strip('"') in url  # the name is the content's hash

    status, _, body = send("GET", url, {"If-None-Match": etag}, b"")
    assert (status, body) == (304, "")
    older = re.sub(r"style\.[0-9a-f]+\.css", "style.0123456789abcdef.css", url)
    status, headers, body = send("GET", older, {}, b"")
    assert (status, body) == (200, css)  # a page from before a deploy still gets styled
    assert header(headers, "Cache-Control") == "public, max-age=300"
    for name in ("other.css", "style.css", "..%2Fapp.py", "style.0123456789ABCDEF.css"):
        status, headers, _ = send("GET", f"{HOST}/static/{name}", {}, b"")
        assert status == 404 and header(headers, "Content-Type") == "application/json"


# -- the stylesheet's promises ----------------------------------------------------------------


def _luminance(colour: str) -> float:
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def rules(css: str) -> list[tuple[str, dict[str, str]]]:
    """(selector, declarations) of every rule, those inside @media included; var() resolved."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    found = [
        (
            selector.strip().split("{")[-1].strip(),
            dict(re.findall(r"([\w-]+)\s*:\s*([^;]+);", body)),
        )
        for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css)
    ]
    variables = {k: v.strip() for s, d in found if s == ":root" for k, v in d.items()}
    return [
        (
            s,
            {
                k: re.sub(r"var\((--[\w-]+)\)", lambda m: variables[m.group(1)], v).strip()
                for k, v in d.items()
            },
        )
        for s, d in found
    ]


def test_the_stylesheet_keeps_text_readable_and_covers_the_shared_classes(
    flow: Flow, browser: Browser
) -> None:
    [url] = browser.open(BOOK).stylesheets()
    css = browser.open(url).html
    checked_rules = 0
    for selector, declarations in rules(css):
        colour = declarations.get("color")
        if colour is None or not colour.startswith("#"):
            continue
        background = declarations.get("background", "#fff")
        assert contrast(colour, background) >= 4.5, (selector, colour, background)
        checked_rules += 1
    assert checked_rules >= 10
    selectors = " ".join(s for s, _ in rules(css))
    for needed in (
        "button.secondary",
        ".muted",
        ".notice",
        ".error",
        ".status-pending",
        ".status-accepted",
        ".status-declined",
        ".status-cancelled",
        "nav.days",
        ":focus-visible",
        "dl",
        "table",
        "fieldset",
        "legend",
        "label",
        "select",
        "textarea",
    ):
        assert needed in selectors, needed
    tap_targets = {
        " ".join(s.split()): d.get("min-height")
        for s, d in rules(css)
        if " ".join(s.split())
        in ("button", "input, select, textarea", ".choices label", "nav.days a")
    }
    assert tap_targets == dict.fromkeys(tap_targets, "2.75rem") and len(tap_targets) == 4


def test_a_guest_past_the_daily_limit_is_told_so_on_the_page(flow: Flow, browser: Browser) -> None:
    spec = restaurant_spec("one-a-day", name="One A Day", max_requests_per_email_per_day=1)
    status, body, _ = flow.api.call("POST", "/restaurants", spec.model_dump(mode="json"), ADMIN)
    assert status == 201, body
    url, wednesday = f"{HOST}/restaurants/one-a-day/book", upcoming_wednesday()
    first = browser.submit(times_page(browser, url, wednesday), "Send booking request",
                           time="19:00", **DETAILS)  # fmt: skip
    assert "Request received" in first.text, first.text

    refused = browser.submit(times_page(browser, url, wednesday), "Send booking request",
                             time="20:00", **DETAILS)  # fmt: skip
    assert refused.status == 429, refused.text
    assert "as many booking requests today as the restaurant accepts" in said_next_to(
        refused, "email"
    )
    assert int(header(refused.headers, "Retry-After")) >= 1
    assert '"too_many_requests"' not in refused.html  # a page in words, not the JSON error
    assert [r["starts_at"][11:16] for r in day_sheet(flow, wednesday, "one-a-day")] == ["19:00"]
