"""The pages behind email links, used as a person uses them: open the link from the email,
read the page's form, press its button (form-encoded, to wherever the form says), then
check the reservation and the emails. Nothing here knows which URL a form should post to.

The same pages behind API Gateway with a stage prefix (`/api/...`), as on AWS."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest

from chalicelib.services.guest_details import GuestDetails
from chalicelib.wiring import bootstrap
from localdev.lambda_shapes import LocalLambdaContext
from tests.app.conftest import upcoming_wednesday
from tests.browser import Browser, Page, through_api_gateway, through_test_client
from tests.pipeline import RES, Flow, SentEmail, sent_emails

STAGE_URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/api"


def staff_link(email: SentEmail, label: str) -> str:
    found = re.search(rf"^{label}:\s+(\S+)$", email.text, flags=re.MULTILINE)
    assert found, email.text
    return found.group(1)


def manage_link(email: SentEmail) -> str:
    found = re.search(r"(https://\S+/manage\?token=\S+)", email.text)
    assert found, email.text
    return found.group(1)


def status_of(flow: Flow, reservation_id: str) -> dict[str, Any]:
    status, body, _ = flow.api.call("GET", f"{RES}/{reservation_id}", None, flow.staff)
    assert status == 200
    return dict(body)


def emails_to_guest() -> list[SentEmail]:
    """What the guest was sent after the receipt of their request (the answers)."""
    return [
        e
        for e in sent_emails()
        if e.to == ("grace@example.com",) and not e.subject.startswith("Request received")
    ]


def requested(flow: Flow, **overrides: Any) -> tuple[dict[str, Any], SentEmail]:
    """A booking request and the staff email it produced."""
    booked = flow.book(**overrides)
    flow.pipeline.drain()
    [email] = [
        e
        for e in sent_emails()
        if e.headers["X-Reservation-Id"] == booked["id"] and e.to != ("grace@example.com",)
    ]
    return booked, email


def confirmed(flow: Flow, browser: Browser) -> tuple[dict[str, Any], SentEmail]:
    """A booking request staff accepted from their email, and the guest's confirmation."""
    booked, email = requested(flow)
    browser.submit(browser.open(staff_link(email, "Accept")), "Accept reservation")
    flow.pipeline.drain()
    [confirmation] = emails_to_guest()
    return booked, confirmation


@pytest.fixture
def browser(flow: Flow) -> Browser:
    return Browser(through_test_client(flow.api.client))


def test_staff_accept_from_the_email(flow: Flow, browser: Browser) -> None:
    booked, email = requested(flow)
    page = browser.open(staff_link(email, "Accept"))
    assert page.status == 200
    assert "Chez Test" in page.text and "Waiting for the restaurant's answer" in page.text
    assert "PENDING" not in page.text  # statuses in words
    assert status_of(flow, booked["id"])["status"] == "PENDING"  # opening changes nothing

    done = browser.submit(page, "Accept reservation")
    assert done.status == 200 and "Reservation accepted" in done.text, done.text
    assert status_of(flow, booked["id"])["status"] == "ACCEPTED"
    flow.pipeline.drain()
    [confirmation] = emails_to_guest()
    assert confirmation.subject.startswith("Confirmed")

    again = browser.submit(page, "Accept reservation")  # the button pressed a second time
    assert again.status == 200 and "already accepted" in again.text
    assert "Nothing was changed" in again.text
    after = status_of(flow, booked["id"])
    assert (after["status"], after["version"]) == ("ACCEPTED", 2)
    flow.pipeline.drain()
    assert len(emails_to_guest()) == 1


def test_staff_decline_with_a_reason_from_the_email(flow: Flow, browser: Browser) -> None:
    booked, email = requested(flow)
    page = browser.open(staff_link(email, "Decline"))
    assert page.status == 200 and "Decline this booking request?" in page.text
    done = browser.submit(page, "Decline reservation", reason="Private event tonight")
    assert done.status == 200 and "Reservation declined" in done.text, done.text
    declined = status_of(flow, booked["id"])
    assert (declined["status"], declined["decline_reason"]) == ("DECLINED", "Private event tonight")
    flow.pipeline.drain()
    [decline] = emails_to_guest()
    assert "Reason: Private event tonight" in decline.text

    again = browser.submit(page, "Decline reservation", reason="other")
    assert "already declined" in again.text
    assert status_of(flow, booked["id"])["decline_reason"] == "Private event tonight"
    # The accept link of the same email now only shows what happened.
    accept = browser.open(staff_link(email, "Accept"))
    assert "already declined" in accept.text and not accept.forms()


def test_guest_confirms_then_cancels_from_the_confirmation_email(
    flow: Flow, browser: Browser
) -> None:
    booked, confirmation = confirmed(flow, browser)

    page = browser.open(manage_link(confirmation))
    assert page.status == 200 and "Chez Test" in page.text
    assert "Accepted: the table is booked" in page.text
    question = browser.submit(page, "Cancel my reservation…")
    assert question.status == 200 and "Cancel this reservation?" in question.text
    assert status_of(flow, booked["id"])["status"] == "ACCEPTED"  # asking changes nothing

    kept = browser.submit(question, "No, keep my reservation")
    assert kept.status == 200 and "Your reservation" in kept.text
    assert status_of(flow, booked["id"])["status"] == "ACCEPTED"

    done = browser.submit(question, "Yes, cancel my reservation")
    assert done.status == 200 and "Reservation cancelled" in done.text, done.text
    cancelled = status_of(flow, booked["id"])
    assert (cancelled["status"], cancelled["cancelled_by"]) == ("CANCELLED", "guest")
    flow.pipeline.drain()
    assert [e.subject.split(":")[0] for e in emails_to_guest()] == ["Confirmed", "Cancelled"]

    again = browser.submit(question, "Yes, cancel my reservation")
    assert again.status == 200 and "already cancelled" in again.text
    assert status_of(flow, booked["id"])["version"] == cancelled["version"]
    flow.pipeline.drain()
    assert len(emails_to_guest()) == 2
    reopened = browser.open(manage_link(confirmation))
    # Over: nothing left to cancel; the guest may remove their details.
    assert "Cancelled" in reopened.text
    assert [form.buttons for form in reopened.forms()] == [["Remove my details…"]]


def test_after_the_meal_the_guest_removes_their_details_from_the_confirmation_email(
    flow: Flow, browser: Browser
) -> None:
    booked, confirmation = confirmed(flow, browser)
    before = browser.open(manage_link(confirmation))
    assert [form.buttons for form in before.forms()] == [["Cancel my reservation…"]]

    ends_at = datetime.fromisoformat(status_of(flow, booked["id"])["ends_at"])
    wiring = bootstrap.wiring()  # the page's clock: the evening after the meal
    wiring.__dict__["guest_details"] = GuestDetails(
        wiring.stores.reservations,
        wiring.stores.timeline,
        clock=lambda: ends_at + timedelta(hours=2),
    )
    page = browser.open(manage_link(confirmation))
    assert "removed on their own 90 days after" in page.text
    assert [form.buttons for form in page.forms()] == [["Remove my details…"]]
    question = browser.submit(page, "Remove my details…")
    assert "Remove your details?" in question.text and status_of(flow, booked["id"])["guest"]
    kept = browser.submit(question, "No, keep my details")
    assert "Grace Hopper" in kept.text and status_of(flow, booked["id"])["guest"]

    done = browser.submit(question, "Yes, remove my details")
    assert done.status == 200 and "Your details were removed" in done.text
    assert "Grace Hopper" not in done.text and "grace@example.com" not in done.text
    after = status_of(flow, booked["id"])
    assert (after["guest"], after["status"], after["guest_details_removed_by"]) == (
        None, "ACCEPTED", "guest")  # fmt: skip
    again = browser.submit(question, "Yes, remove my details")  # a second press
    assert again.status == 200 and status_of(flow, booked["id"])["version"] == after["version"]
    flow.pipeline.drain()
    assert len(emails_to_guest()) == 1  # nobody is emailed about it
    reopened = browser.open(manage_link(confirmation))
    assert "Name, contact and notes removed on" in reopened.text and not reopened.forms()


def test_staff_open_the_days_bookings_from_a_request_email(flow: Flow, browser: Browser) -> None:
    booked, email = requested(flow, hhmm="20:00")
    link = staff_link(email, "Open the day's bookings")
    opened = browser.open(link)
    assert opened.status == 200 and not browser.cookies  # opening it signs nobody in
    day = browser.submit(opened, "Open the bookings")
    assert day.status == 200, day.text
    assert day.url.endswith(f"/restaurants/bistro-a/staff?date={upcoming_wednesday()}")
    assert "Waiting for an answer (1)" in day.text and "Grace Hopper" in day.text
    assert status_of(flow, booked["id"])["status"] == "PENDING"


def on_stage(url: str) -> str:
    """The same link as AWS serves it: API Gateway's URL with its stage prefix."""
    parts = urlsplit(url)
    return f"{STAGE_URL}{parts.path}?{parts.query}"


def test_forms_post_back_under_the_api_gateway_stage_prefix(flow: Flow) -> None:
    context = LocalLambdaContext("api_handler")
    browser = Browser(through_api_gateway(flow.pipeline.app.app, "api", context))
    booked, email = requested(flow)

    page = browser.open(on_stage(staff_link(email, "Accept")))
    assert page.status == 200 and "Accept this booking request?" in page.text
    [form] = page.forms()
    assert urlsplit(page.target(form)).path.startswith("/api/restaurants/")
    done = browser.submit(page, "Accept reservation")
    assert done.status == 200 and "Reservation accepted" in done.text, done.text
    assert status_of(flow, booked["id"])["status"] == "ACCEPTED"

    flow.pipeline.drain()
    [confirmation] = emails_to_guest()
    question = browser.submit(
        browser.open(on_stage(manage_link(confirmation))), "Cancel my reservation…"
    )
    assert urlsplit(question.url).path.startswith("/api/restaurants/")
    done = browser.submit(question, "Yes, cancel my reservation")
    assert "Reservation cancelled" in done.text, done.text
    assert status_of(flow, booked["id"])["status"] == "CANCELLED"


def test_error_pages_speak_to_people(flow: Flow, browser: Browser) -> None:
    booked, email = requested(flow)
    guest_url = f"https://reservations.test{RES}/{booked['id']}/manage"

    def said(page: Page) -> str:
        assert page.headers["Content-Type"].startswith("text/html")
        assert "Chez Test" in page.text  # the restaurant's name, even on an error page
        for developer_words in ("Authorization", "Bearer", "token", "<", "API", "dashboard"):
            assert developer_words not in page.text, page.text
        return page.text

    truncated = browser.open(guest_url)  # the manage link cut before its token
    assert truncated.status == 401 and "This link is incomplete" in said(truncated)
    wrong = browser.open(f"{guest_url}?token=not-the-token")
    assert wrong.status == 403 and "does not open this reservation" in said(wrong)
    missing = browser.open(f"https://reservations.test{RES}/r-nothing/manage?token=x")
    assert missing.status == 404 and "could not find this reservation" in said(missing)

    accept = staff_link(email, "Accept")
    forged = browser.open(accept.replace("action=accept", "action=decline"))
    assert forged.status == 403 and "This link is not valid" in said(forged)
    cut = browser.open(accept.split("&signature=")[0])
    assert cut.status == 403 and "This link is incomplete" in said(cut)
    past = datetime.now(UTC) - timedelta(minutes=1)
    expired_url = bootstrap.wiring().staff_links.url("bistro-a", booked["id"], "accept", past)
    expired = browser.open(expired_url)
    assert expired.status == 403 and "has expired" in said(expired)
    assert status_of(flow, booked["id"])["status"] == "PENDING"
