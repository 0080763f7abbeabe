"""The staff day view, used as staff use it: a signed link opens a page with one button,
pressing it signs the browser in (a cookie), the day's bookings show pending requests first
with Accept / Decline, and each form carries the session's CSRF token. Then every way in that
must be refused: no or wrong CSRF token, another restaurant's session, tampered or expired
links, a revoked staff token, an address taken off the staff list, a signed-out cookie."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.services.staff_sessions import SIGN_IN_LINKS_PER_HOUR
from chalicelib.web.links import recipients_digest
from chalicelib.wiring import bootstrap
from tests.app.conftest import ADMIN, upcoming_wednesday
from tests.browser import Browser, Page, through_test_client
from tests.builders import restaurant_spec
from tests.pipeline import RES, Flow, SentEmail, sent_emails

STAFF = ("chef@a.example", "desk@a.example")  # bistro-a's staff list (tests/integration/conftest)
DAY = "/restaurants/bistro-a/staff"


def sign_in_link(
    recipients: tuple[str, ...] = STAFF, valid_for: timedelta = timedelta(days=3)
) -> str:
    """The link a staff email carries (as the notifier makes it)."""
    links = bootstrap.wiring().staff_links
    return links.day_view("bistro-a", recipients, upcoming_wednesday(), valid_for)


def signed_in(browser: Browser, link: str) -> Page:
    opened = browser.open(link)
    assert opened.status == 200 and "Open the bookings" in opened.text, opened.text
    assert not browser.cookies  # opening the link (a mail scanner might) starts nothing
    return browser.submit(opened, "Open the bookings")


def status_of(flow: Flow, reservation_id: str) -> dict[str, Any]:
    status, body, _ = flow.api.call("GET", f"{RES}/{reservation_id}", None, flow.staff)
    assert status == 200
    return dict(body)


@pytest.fixture
def browser(flow: Flow) -> Browser:
    return Browser(through_test_client(flow.api.client))


def test_staff_answer_requests_from_the_day_view(flow: Flow, browser: Browser) -> None:
    early = flow.book(hhmm="19:00", party_size=2)
    late = flow.book(
        hhmm="20:30",
        party_size=4,
        guest={"name": "Ada <i>Lovelace</i>", "email": "ada@example.com", "phone": "+33612345678"},
    )
    flow.api.call("POST", f"{RES}/{early['id']}/accept", None, flow.staff)

    day = signed_in(browser, sign_in_link())
    assert day.status == 200, day.text
    assert day.url.endswith(f"{DAY}?date={upcoming_wednesday()}")
    assert "Bistro" in day.text or "Chez Test" in day.text  # the restaurant's name
    text = day.text
    assert text.index("Waiting for an answer (1)") < text.index("All bookings (2)")
    assert "Ada <i>Lovelace</i>" in text and "<i>Lovelace" not in day.html  # escaped
    cookie = day.headers.get("Set-Cookie") or ""
    assert not cookie  # the cookie came with the redirect, not with the page
    assert list(browser.cookies) == ["__Host-staff_session"]  # the tests' stage is on HTTPS

    accepted = browser.submit(day, "Accept 20:30 Ada <i>Lovelace</i>")
    assert accepted.status == 200 and "Accepted. The guest will receive" in accepted.text
    assert status_of(flow, late["id"])["status"] == "ACCEPTED"
    assert "Waiting for an answer (0)" in accepted.text and "No requests waiting" in accepted.text

    # The same button pressed again (the old page): nothing changes, staff are told so.
    again = browser.submit(day, "Accept 20:30 Ada <i>Lovelace</i>")
    assert "already been answered" in again.text
    assert status_of(flow, late["id"])["version"] == 2


def test_decline_with_a_reason_and_other_days(flow: Flow, browser: Browser) -> None:
    booked = flow.book(hhmm="19:30")
    day = signed_in(browser, sign_in_link())
    declined = browser.submit(day, "Decline 19:30 Grace Hopper", reason="Kitchen closed")
    assert "Declined. The guest will be told" in declined.text
    after = status_of(flow, booked["id"])
    assert (after["status"], after["decline_reason"]) == ("DECLINED", "Kitchen closed")
    assert "Declined" in declined.text  # its badge in the list

    following = upcoming_wednesday() + timedelta(days=1)
    nxt = browser.open(f"http://localhost{DAY}?date={following}")
    assert nxt.status == 200 and "No bookings." in nxt.text
    picked = browser.submit(nxt, "Show", date=upcoming_wednesday().isoformat())
    assert "All bookings (1)" in picked.text


def test_a_booking_whose_guest_removed_their_details_still_counts_on_the_day(
    flow: Flow, browser: Browser
) -> None:
    gone = flow.book(hhmm="19:30", party_size=3)
    ada = {"name": "Ada Lovelace", "email": "ada@example.com"}
    flow.book(hhmm="20:00", party_size=2, guest=ada, notes="Window seat")
    guest = f"?token={gone['manage_token']}"
    assert flow.api.call("POST", f"{RES}/{gone['id']}/cancel{guest}")[0] == 200
    assert flow.api.call("DELETE", f"{RES}/{gone['id']}/guest{guest}")[0] == 200

    day = signed_in(browser, sign_in_link())
    assert day.status == 200, day.text
    assert "All bookings (2)" in day.text and "Waiting for an answer (1)" in day.text
    assert "(details removed)" in day.text and "Grace Hopper" not in day.text
    assert "grace@example.com" not in day.html and "Birthday" not in day.text
    assert "Accept 20:00 Ada Lovelace" in day.text


def test_a_form_without_its_csrf_token_is_refused(flow: Flow, browser: Browser) -> None:
    booked = flow.book()
    day = signed_in(browser, sign_in_link())
    form = day.form("Accept 19:30 Grace Hopper")
    for token in ("", "forged-token"):
        fields = {**form.fields, "csrf_token": token}
        refused = browser.submit(day, "Accept 19:30 Grace Hopper", **fields)
        assert refused.status == 403, refused.text
        assert "This form has expired" in refused.text
    assert status_of(flow, booked["id"])["status"] == "PENDING"
    out = browser.submit(day, "Sign out", csrf_token="forged-token")
    assert out.status == 403 and browser.cookies  # not signed out by a forged form


def test_a_session_of_one_restaurant_opens_no_other(flow: Flow, browser: Browser) -> None:
    spec = restaurant_spec("bistro-b", staff_emails=["chef@a.example"])
    assert flow.api.call("POST", "/restaurants", spec.model_dump(mode="json"), ADMIN)[0] == 201
    signed_in(browser, sign_in_link())
    other = browser.open("http://localhost/restaurants/bistro-b/staff")
    assert other.status == 403 and "another restaurant" in other.text
    assert browser.open(f"http://localhost{DAY}").status == 200


def test_tampered_expired_and_foreign_links_are_refused(flow: Flow, browser: Browser) -> None:
    link = sign_in_link()
    for tampered in (
        link.replace("signature=", "signature=x"),
        link.replace(f"day={upcoming_wednesday()}", "day=2030-01-01"),
        link.replace("/bistro-a/", "/bistro-b/"),
        link.replace(recipients_digest(STAFF), recipients_digest(["evil@example.com"])),
    ):
        page = browser.open(tampered)
        if page.status == 200:  # the page opens; pressing its button must not sign in
            page = browser.submit(page, "Open the bookings")
        assert page.status in (403, 404), (tampered, page.status)
        assert not browser.cookies
    expired = browser.submit(
        browser.open(sign_in_link(valid_for=timedelta(seconds=-1))), "Open the bookings"
    )
    assert expired.status == 403 and "expired" in expired.text and not browser.cookies
    nobody = browser.open(f"http://localhost{DAY}")
    assert nobody.status == 401 and "not signed in" in nobody.text
    asking = browser.open(nobody.link("Ask for a sign-in link"))
    assert asking.status == 200 and "Email me a sign-in link" in asking.text


def test_revoking_the_staff_token_ends_its_sessions(flow: Flow, browser: Browser) -> None:
    status, body, _ = flow.api.call(
        "POST", "/restaurants/bistro-a/staff-tokens", {"label": "host stand"}, ADMIN
    )
    token_id, token = body["id"], body["token"]
    status, made, _ = flow.api.call(
        "POST", "/restaurants/bistro-a/staff-sessions", None, {"Authorization": f"Bearer {token}"}
    )
    assert status == 201, made
    assert signed_in(browser, made["sign_in_url"]).status == 200
    assert browser.open(f"http://localhost{DAY}").status == 200
    deleted = flow.api.call("DELETE", f"/restaurants/bistro-a/staff-tokens/{token_id}", None, ADMIN)
    assert deleted[0] == 204
    ended = browser.open(f"http://localhost{DAY}")
    assert ended.status == 401 and "session has ended" in ended.text
    # The admin token makes no sign-in links: only revocable staff tokens do.
    refused = flow.api.call("POST", "/restaurants/bistro-a/staff-sessions", None, ADMIN)
    assert refused[0] == 403 and refused[1]["error"]["code"] == "forbidden"


def test_removing_a_staff_address_ends_its_sessions(flow: Flow) -> None:
    just_chef = Browser(through_test_client(flow.api.client))
    just_desk = Browser(through_test_client(flow.api.client))
    everyone = Browser(through_test_client(flow.api.client))
    signed_in(just_chef, sign_in_link(("chef@a.example",)))
    signed_in(just_desk, sign_in_link(("desk@a.example",)))
    signed_in(everyone, sign_in_link())
    spec = restaurant_spec("bistro-a", staff_emails=["desk@a.example"]).model_dump(mode="json")
    spec.pop("id")
    assert flow.api.call("PUT", "/restaurants/bistro-a", spec, ADMIN)[0] == 200
    assert just_chef.open(f"http://localhost{DAY}").status == 401
    assert everyone.open(f"http://localhost{DAY}").status == 401  # it was sent to chef@ too
    assert just_desk.open(f"http://localhost{DAY}").status == 200
    # A link sent to the old list no longer signs anyone in.
    stale = everyone.submit(everyone.open(sign_in_link()), "Open the bookings")
    assert stale.status == 403 and "no longer on this restaurant's staff list" in stale.text


def test_sign_out_ends_the_session_for_good(flow: Flow, browser: Browser) -> None:
    day = signed_in(browser, sign_in_link())
    kept = dict(browser.cookies)
    out = browser.submit(day, "Sign out")
    assert out.status == 200 and "Signed out" in out.text and not browser.cookies
    browser.cookies.update(kept)  # the old cookie, replayed
    assert browser.open(f"http://localhost{DAY}").status == 401


def test_the_session_cookie(flow: Flow, browser: Browser) -> None:
    link = sign_in_link()
    opened = browser.open(link)
    form = opened.form("Open the bookings")
    status, headers, _ = through_test_client(flow.api.client)(
        "POST", opened.target(form), {"Content-Type": "application/x-www-form-urlencoded"}, b""
    )
    assert status == 303
    cookie = headers["Set-Cookie"]  # PUBLIC_BASE_URL is https:// in the tests' stage
    assert cookie.startswith("__Host-staff_session=") and "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie and "Path=/" in cookie and "Max-Age=43200" in cookie
    assert "; Secure" in cookie


def test_the_cookie_is_secure_and_host_only_except_on_plain_http() -> None:
    from chalicelib.web.session_cookie import SessionCookie

    local = SessionCookie(secure=False).set("s3cret")  # `make run`: http://127.0.0.1
    assert local.startswith("staff_session=s3cret;") and "Secure" not in local
    cookie = SessionCookie(secure=True)
    header = cookie.set("s3cret")
    assert header.startswith("__Host-staff_session=s3cret;")
    assert "; Secure" in header and "HttpOnly" in header and "SameSite=Strict" in header
    assert cookie.read("staff_session=planted-over-http") is None  # only the __Host- name
    assert cookie.read("a=b; __Host-staff_session=s3cret") == "s3cret"
    assert "Max-Age=0" in cookie.clear()


def sign_in_emails(to: str) -> list[SentEmail]:
    return [e for e in sent_emails() if e.to == (to,) and "sign-in link" in e.subject]


def link_in(email: SentEmail) -> str:
    [url] = re.findall(r"https://\S+/staff/sign-in\?\S+", email.text)
    assert isinstance(url, str)
    return url


def test_a_sign_in_link_asked_for_by_email(flow: Flow, browser: Browser) -> None:
    page = browser.open("http://localhost/restaurants/bistro-a/staff/sign-in")
    assert page.status == 200 and "Email me a sign-in link" in page.text
    asked = browser.submit(page, "Email me a sign-in link", email=" Chef@A.example ")
    assert asked.status == 200 and "Check your email" in asked.text
    assert not browser.cookies
    flow.pipeline.drain()  # the request item -> stream -> event -> staff queue -> SES
    [email] = sign_in_emails("chef@a.example")
    assert "30 minutes" in email.text and "Chez Test" in email.text
    day = signed_in(browser, link_in(email))
    assert day.status == 200 and "Bookings," in day.text


def test_unknown_addresses_get_the_same_answer_and_nothing(flow: Flow, browser: Browser) -> None:
    page = browser.open("http://localhost/restaurants/bistro-a/staff/sign-in")
    listed = browser.submit(page, "Email me a sign-in link", email="desk@a.example")
    stranger = browser.submit(page, "Email me a sign-in link", email="desk@b.example")
    assert (listed.status, stranger.status) == (200, 200)
    assert listed.text.replace("desk@a.example", "ADDRESS") == stranger.text.replace(
        "desk@b.example", "ADDRESS"
    )
    for _ in range(SIGN_IN_LINKS_PER_HOUR + 1):  # more than an hour's share
        again = browser.submit(page, "Email me a sign-in link", email="desk@a.example")
        assert again.text == listed.text
    flow.pipeline.drain()
    assert sign_in_emails("desk@b.example") == []
    assert len(sign_in_emails("desk@a.example")) == SIGN_IN_LINKS_PER_HOUR
    assert not [e for e in sent_emails() if "b.example" in " ".join(e.to)]
    typo = browser.submit(page, "Email me a sign-in link", email="not an address")
    assert typo.status == 422 and "Enter an email address" in typo.text


def test_a_link_asked_for_by_someone_taken_off_the_list_is_not_sent(
    flow: Flow, browser: Browser
) -> None:
    page = browser.open("http://localhost/restaurants/bistro-a/staff/sign-in")
    browser.submit(page, "Email me a sign-in link", email="chef@a.example")
    spec = restaurant_spec("bistro-a", staff_emails=["desk@a.example"]).model_dump(mode="json")
    spec.pop("id")
    assert flow.api.call("PUT", "/restaurants/bistro-a", spec, ADMIN)[0] == 200
    flow.pipeline.drain()
    assert sign_in_emails("chef@a.example") == []
