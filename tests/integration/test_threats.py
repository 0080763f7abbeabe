"""One test per threat, each named for it, through the real app, pipeline and mailer on moto.

Threats tested elsewhere (not repeated here):
- an accept/decline link replayed after use changes nothing and sends nothing:
  `test_pages_in_a_browser.py::test_staff_accept_from_the_email`, `…decline…`;
- a cancellation replayed: `test_guest_confirms_then_cancels_from_the_confirmation_email`;
- tampered, cut or expired accept links: `test_error_pages_speak_to_people`,
  `test_pipeline.py::test_signed_links_refuse_tampering_and_other_reservations`;
- tampered, foreign or expired sign-in links, forged CSRF, replayed signed-out cookies, revoked
  tokens ending sessions: `test_staff_day_view.py`;
- a request body over the bound: `tests/app/test_security_headers.py`.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from chalicelib.web.access import Access
from tests.app.conftest import ADMIN, guest_request, upcoming_wednesday
from tests.browser import Browser, through_test_client
from tests.builders import restaurant_spec
from tests.pipeline import RES, Flow, SentEmail, sent_emails

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
CRLF = "\r\nBcc: intruder@evil.example\r\nX-Injected: 1"
HTML = '<script>alert(1)</script><img src=x onerror="alert(2)">'
RAW_MARKUP = ("<script", "<img src=x", 'onerror="alert')


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def link(email: SentEmail, label: str) -> str:
    found = re.search(rf"^{label}:\s+(\S+)$", email.text, flags=re.MULTILINE)
    assert found, email.text
    return found.group(1)


def staff_request_of(reservation_id: str) -> SentEmail:
    [email] = [
        e
        for e in sent_emails()
        if e.headers.get("X-Reservation-Id") == reservation_id
        and e.subject.startswith("Booking request")
    ]
    return email


def field_error(response: tuple[int, Any, dict[str, str]]) -> tuple[int, str]:
    status, body, _ = response
    return status, body["error"]["field"]


def replace_restaurant(flow: Flow, **overrides: Any) -> tuple[int, Any, dict[str, str]]:
    spec = restaurant_spec("bistro-a", staff_emails=["chef@a.example", "desk@a.example"])
    body = {**spec.model_dump(mode="json", exclude={"id"}), **overrides}
    return flow.api.call("PUT", "/restaurants/bistro-a", body, ADMIN)


def assert_headers_are_clean(email: SentEmail) -> None:
    """Every header the mailer wrote is one of its own, on one (folded) line, naming nobody
    who was not meant to get the email."""
    expected = {
        "from",
        "to",
        "reply-to",
        "subject",
        "date",
        "message-id",
        "x-reservation-id",
        "x-event-id",
        "x-correlation-id",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
    }
    names = {name.lower() for name in email.headers}
    assert names <= expected, names - expected
    for name, value in email.headers.items():
        assert "\r" not in str(value) and "\n" not in str(value), (name, value)
        assert "intruder@evil.example" not in str(value), (name, value)


def test_crlf_in_any_field_never_reaches_an_email_header(flow: Flow) -> None:
    # Where a field ends up in a header (Subject, From's name, Reply-To), CRLF is refused,
    # naming the field; where multi-line text is allowed (notes, a decline reason), it stays
    # in the body.
    guest = {"name": "Grace Hopper", "email": "grace@example.com", "phone": "+14155550100"}
    for field in ("name", "email", "phone"):
        hostile = {**guest, field: guest[field] + CRLF}
        refused = flow.api.call("POST", RES, guest_request(guest=hostile))
        assert field_error(refused) == (422, f"guest.{field}"), refused
    assert field_error(replace_restaurant(flow, name="Chez" + CRLF)) == (422, "name")
    assert field_error(replace_restaurant(flow, address="1 rue" + CRLF)) == (422, "address")
    token = flow.api.call(
        "POST", "/restaurants/bistro-a/staff-tokens", {"label": "desk" + CRLF}, ADMIN
    )
    assert field_error(token) == (422, "label")

    accepted = flow.book(notes="Window seat" + CRLF)
    declined = flow.book(hhmm="20:00", notes="Quiet" + CRLF)
    flow.pipeline.drain()
    flow.api.call("POST", f"{RES}/{declined['id']}/decline", {"reason": "Full" + CRLF}, flow.staff)
    page = flow.api.call(
        "POST", path_of(link(staff_request_of(accepted["id"]), "Accept")), "", FORM
    )
    assert page[0] == 200
    cancelled = flow.book(hhmm="20:30", notes=CRLF)
    flow.pipeline.drain()
    flow.api.call("POST", f"{RES}/{cancelled['id']}/cancel?token={cancelled['manage_token']}")
    flow.pipeline.drain()

    emails = sent_emails()
    subjects = {e.subject.split(":")[0] for e in emails}
    assert {"Booking request", "Confirmed", "Cancelled by the guest"} <= subjects, subjects
    assert len(emails) == 10  # 3 receipts, 3 requests, confirmation, refusal, 2 cancellations
    for email in emails:
        assert_headers_are_clean(email)
    assert any("X-Injected: 1" in e.text for e in emails)  # the notes, as written, in the body


def test_crlf_in_any_request_part_never_reaches_a_response_header(flow: Flow) -> None:
    booked = flow.book()
    injected = "\r\nSet-Cookie: planted=1\r\nX-Injected: 1"
    answers = [
        flow.api.call("GET", f"{RES}/{booked['id']}", None, {"X-Correlation-Id": "c" + injected}),
        flow.api.call("POST", RES, guest_request(hhmm="20:00"), {"Idempotency-Key": injected}),
        flow.api.call("GET", "/restaurants/bistro-a%0d%0aX-Injected:%201/reservations/x"),
        flow.api.call("GET", f"{RES}/{booked['id']}/manage?token=x%0d%0aX-Injected:%201"),
        flow.api.call("GET", f"{RES}/{booked['id']}/respond?action=accept%0d%0aX-Injected:%201"),
        flow.api.call("GET", "/restaurants/bistro-a/staff?date=%0d%0aX-Injected:%201"),
    ]
    for status, _, headers in answers:
        assert 200 <= status < 500
        assert "X-Injected" not in headers and "planted" not in str(headers.get("Set-Cookie"))
        for name, value in headers.items():
            assert "\r" not in value and "\n" not in value, (name, value)
    assert answers[0][2]["X-Correlation-Id"] != "c" + injected  # not echoed: replaced
    assert answers[1][0] == 422  # the key is refused, naming it
    assert answers[1][1]["error"]["field"] == "Idempotency-Key"


def test_html_in_any_field_is_escaped_in_every_email_and_page(flow: Flow) -> None:
    assert replace_restaurant(flow, name="Chez " + HTML, address="1 rue " + HTML)[0] == 200
    guest = {"name": "Grace " + HTML, "email": "grace@example.com", "phone": "+14155550100"}
    accepted = flow.book(guest=guest, notes="Notes " + HTML)
    declined = flow.book(hhmm="20:00", guest=guest, notes="Notes " + HTML)
    flow.pipeline.drain()
    accept = link(staff_request_of(accepted["id"]), "Accept")
    assert flow.api.call("POST", path_of(accept), "", FORM)[0] == 200
    decline = link(staff_request_of(declined["id"]), "Decline")
    answered = flow.api.call("POST", path_of(decline), "reason=Sorry%20" + HTML, FORM)
    assert answered[0] == 200, answered
    flow.api.call("POST", f"{RES}/{accepted['id']}/cancel?token={accepted['manage_token']}")
    flow.pipeline.drain()

    emails = sent_emails()
    assert len(emails) == 8  # 2 receipts, 2 requests, confirmation, refusal, 2 cancellations
    for email in emails:
        for raw in RAW_MARKUP:
            assert raw not in email.html, (email.subject, raw)
        assert "&lt;script&gt;" in email.html  # shown as text: the restaurant's name at least
    [refusal] = [e for e in emails if "declined" in e.subject]
    assert "Sorry &lt;script&gt;alert(1)&lt;/script&gt;" in refusal.html

    browser = Browser(through_test_client(flow.api.client))
    staff = flow.api.call("POST", "/restaurants/bistro-a/staff-tokens", {"label": HTML}, ADMIN)[1][
        "token"
    ]
    sign_in = flow.api.call(
        "POST", "/restaurants/bistro-a/staff-sessions", None, {"Authorization": f"Bearer {staff}"}
    )[1]["sign_in_url"]
    day_view = browser.submit(browser.open(sign_in), "Open the bookings")
    day_view = browser.open(
        f"http://localhost/restaurants/bistro-a/staff?date={upcoming_wednesday()}"
    )
    pages = [
        day_view,
        browser.open(
            f"https://reservations.test{RES}/{declined['id']}/manage?token={declined['manage_token']}"
        ),
        browser.open(accept),
        browser.open(decline),
        browser.open("https://reservations.test/restaurants/bistro-a/book"),
        browser.open("https://reservations.test/restaurants/bistro-a/staff/sign-in"),
    ]
    assert "Grace <script>" in day_view.text  # the guest's name, as text
    for page in pages:
        assert page.status == 200, page.text
        for raw in RAW_MARKUP:
            assert raw not in page.html, (page.url, raw)


def test_a_link_whose_expiry_was_moved_later_is_refused(flow: Flow) -> None:
    booked = flow.book()
    flow.pipeline.drain()
    accept = path_of(link(staff_request_of(booked["id"]), "Accept"))
    expires = re.search(r"expires=(\d+)", accept)
    assert expires
    later = accept.replace(expires.group(0), f"expires={int(expires.group(1)) + 86400 * 365}")
    status, page, _ = flow.api.call("POST", later, "", FORM)
    assert status == 403 and "This link is not valid" in page
    assert flow.api.call("GET", f"{RES}/{booked['id']}", None, flow.staff)[1]["version"] == 1


def test_a_staff_link_of_one_restaurant_opens_nothing_in_another(flow: Flow) -> None:
    spec = restaurant_spec("bistro-b", staff_emails=["chef@b.example"]).model_dump(mode="json")
    assert flow.api.call("POST", "/restaurants", spec, ADMIN)[0] == 201
    in_b = flow.api.call("POST", "/restaurants/bistro-b/reservations", guest_request())[1]
    in_a = flow.book()
    flow.pipeline.drain()
    accept_a = path_of(link(staff_request_of(in_a["id"]), "Accept"))
    # A's signed link, pointed at B's reservation (same id scheme, other restaurant).
    aimed_at_b = accept_a.replace("/bistro-a/", "/bistro-b/").replace(in_a["id"], in_b["id"])
    status, page, _ = flow.api.call("POST", aimed_at_b, "", FORM)
    assert status == 403 and "This link is not valid" in page
    b_now = flow.api.call("GET", f"/restaurants/bistro-b/reservations/{in_b['id']}", None, ADMIN)
    assert b_now[1]["status"] == "PENDING"


def test_a_manage_token_opens_only_its_own_reservation(flow: Flow) -> None:
    mine, theirs = flow.book(), flow.book(hhmm="20:00")
    for method, suffix in (("GET", ""), ("POST", "/cancel"), ("GET", "/manage")):
        status, _, _ = flow.api.call(
            method, f"{RES}/{theirs['id']}{suffix}?token={mine['manage_token']}"
        )
        assert status == 403, (method, suffix)
    assert flow.api.call("GET", f"{RES}/{theirs['id']}", None, flow.staff)[1]["status"] == (
        "PENDING"
    )


STAFF_ACCESS = (Access.STAFF, Access.GUEST_OR_STAFF)


def staff_routes() -> list[tuple[str, str, dict[str, str]]]:
    """Every (method, path, content type) of the app that takes a staff token, ids filled in
    for bistro-b."""
    from app import app

    found = []
    for path, methods in app.routes.items():
        for method, entry in methods.items():
            if getattr(entry.view_function, "access", None) in STAFF_ACCESS:
                concrete = path.replace("{restaurant_id}", "bistro-b")
                concrete = concrete.replace("{reservation_id}", "r-any")
                kind = entry.content_types[0]
                found.append((method, concrete, {"Content-Type": kind}))
    return found


def test_a_staff_token_of_one_restaurant_is_refused_by_every_staff_route_of_another(
    flow: Flow,
) -> None:
    spec = restaurant_spec("bistro-b", staff_emails=["chef@b.example"]).model_dump(mode="json")
    assert flow.api.call("POST", "/restaurants", spec, ADMIN)[0] == 201
    routes = staff_routes()
    assert len(routes) >= 8
    day = f"?date={upcoming_wednesday()}"
    for method, path, kind in routes:
        sent = {**flow.staff, **kind}  # bistro-a's token
        status, body, _ = flow.api.call(method, path + day, "{}", sent)
        code = body["error"]["code"] if isinstance(body, dict) else "forbidden"  # a page
        assert (status, code) == (403, "forbidden"), (method, path, body)


def test_a_revoked_staff_token_is_refused_by_every_staff_route(flow: Flow) -> None:
    [token] = flow.api.call("GET", "/restaurants/bistro-a/staff-tokens", None, ADMIN)[1][
        "staff_tokens"
    ]
    revoked = flow.api.call(
        "DELETE", f"/restaurants/bistro-a/staff-tokens/{token['id']}", None, ADMIN
    )
    assert revoked[0] == 204
    day = f"?date={upcoming_wednesday()}"
    for method, path, kind in staff_routes():
        path = path.replace("bistro-b", "bistro-a")
        status, body, _ = flow.api.call(method, path + day, "{}", {**flow.staff, **kind})
        code = body["error"]["code"] if isinstance(body, dict) else "unauthenticated"  # a page
        assert (status, code) == (401, "unauthenticated"), (method, path, body)


def test_a_decline_reason_sent_from_the_email_page_is_bounded_like_the_apis(flow: Flow) -> None:
    booked = flow.book()
    flow.pipeline.drain()
    decline = path_of(link(staff_request_of(booked["id"]), "Decline"))
    for reason in ("x" * 501, "Full%07"):  # too long; a control character (BEL)
        status, page, _ = flow.api.call("POST", decline, f"reason={reason}", FORM)
        assert status == 422 and "could not be read" in page, (reason, status)
    assert flow.api.call("GET", f"{RES}/{booked['id']}", None, flow.staff)[1]["status"] == (
        "PENDING"
    )
