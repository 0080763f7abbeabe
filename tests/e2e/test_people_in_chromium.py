"""The whole story in a real browser (Debian's Chromium through Playwright) against `make run`,
as the people live it: a guest books on the booking page; the staff email reaches the outbox;
staff open the day view from that email and accept; the guest's confirmation (in French: the
demo bistro is in Paris) carries a calendar invite; the guest cancels on the manage page; the
day view shows it cancelled; the guest's cancellation carries the invite's cancellation.

Every page is checked by axe-core (no serious or critical violation) and screenshotted at
1280 and 390 px into test-artifacts/screenshots/ (tests/e2e/pages_check.py).
"""

from __future__ import annotations

import re
import shutil
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.e2e.launcher import Runtime, launch
from tests.e2e.pages_check import check_page
from tests.ics import ReadInvite, read_invite

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PARIS = ZoneInfo("Europe/Paris")
GUEST = "elodie@example.com"
STAFF_ADDRESS = "staff@demo-bistro.example"


def chromium_binary() -> str:
    found = shutil.which("chromium")
    assert found, "Chromium is missing: `make test` installs it (apt-get install chromium)"
    return found


@pytest.fixture(scope="module")
def runtime() -> Iterator[Runtime]:
    yield from launch()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_binary(), headless=True)
        yield browser
        browser.close()


def press(page: Page, button: str | re.Pattern[str]) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=button).click()


def heading(page: Page) -> str:
    return page.locator("h1").inner_text().strip()


def one_message(runtime: Runtime, to: str, subject: str) -> dict[str, Any]:
    found = runtime.wait_for_messages(
        lambda m: to in " ".join(m["to"]) and re.search(subject, m["subject"]) is not None,
        timeout=30,
    )
    assert len(found) == 1, [(m["to"], m["subject"]) for m in runtime.messages()]
    return found[0]


def open_in_outbox(page: Page, runtime: Runtime, message: dict[str, Any]) -> None:
    """The outbox as a person uses it: the list, then the message."""
    page.goto(f"http://127.0.0.1:{runtime.outbox_port}/")
    page.get_by_role("link", name=message["subject"]).first.click()
    page.wait_for_load_state()


def follow_email_link(page: Page, name: str | re.Pattern[str]) -> Page:
    """A link in the rendered email opens a new tab, as from a mail client."""
    with page.context.expect_page() as opened:
        page.frame_locator("iframe").get_by_role("link", name=name).click()
    tab = opened.value
    tab.wait_for_load_state()
    return tab


def invite_of(runtime: Runtime, page: Page, message: dict[str, Any]) -> ReadInvite:
    """The .ics attachment, downloaded from the outbox's attachment link."""
    open_in_outbox(page, runtime, message)
    link = page.get_by_role("link", name=re.compile(r"invite\.ics"))
    url = link.get_attribute("href")
    assert url, "the outbox lists no invite.ics"
    full = f"http://127.0.0.1:{runtime.outbox_port}{url}" if url.startswith("/") else url
    with urllib.request.urlopen(full, timeout=10) as response:
        assert response.headers.get_content_type() == "text/calendar"
        return read_invite(response.read())


def test_from_the_booking_page_to_the_cancellation_invite(
    runtime: Runtime, chromium: Browser
) -> None:
    day = datetime.now(PARIS).date() + timedelta(days=2)
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, locale="fr-FR")
    guest = context.new_page()

    # -- the guest books on the page ----------------------------------------------------
    guest.goto(f"{runtime.api}/restaurants/demo-bistro/book")
    assert (
        heading(guest) == "Book a table" and "Demo Bistro" in guest.locator("header").inner_text()
    )
    check_page(guest, "01-guest-booking")
    guest.get_by_label("Date").fill(day.isoformat())
    guest.get_by_label("Number of guests").select_option("2")
    press(guest, "Show available times")
    check_page(guest, "02-guest-times")
    guest.get_by_label("19:30").check()
    guest.get_by_label("Name").fill("Élodie Martin")
    guest.get_by_label("Email").fill(GUEST)
    guest.get_by_label("Phone (optional)").fill("+33 6 12 34 56 78")
    guest.get_by_label("Notes for the restaurant (optional)").fill("Près de la fenêtre <b>svp</b>")
    press(guest, "Send booking request")
    assert heading(guest) == "Request received"
    check_page(guest, "03-guest-request-received")

    received = one_message(runtime, GUEST, r"^Demande reçue")  # the guest hears at once
    assert "Demo Bistro" in received["subject"]

    # -- staff: the email, the day view, accept ------------------------------------------
    staff_mail = one_message(runtime, STAFF_ADDRESS, r"^Demande de réservation.*Élodie Martin")
    assert staff_mail["reply_to"] == [GUEST] or GUEST in " ".join(staff_mail["reply_to"])
    inbox = context.new_page()
    open_in_outbox(inbox, runtime, staff_mail)
    staff = follow_email_link(inbox, "Voir les réservations du jour")
    check_page(staff, "04-staff-sign-in")
    press(staff, "Open the bookings")
    assert heading(staff).startswith("Bookings,")
    assert "Élodie Martin" in staff.locator("main").inner_text()
    check_page(staff, "05-staff-day-view")
    press(staff, re.compile(r"^Accept 19:30 Élodie Martin"))
    assert "Accepted. The guest will receive" in staff.locator("main").inner_text()
    check_page(staff, "06-staff-day-view-accepted")

    # -- the guest's confirmation: French, with a calendar invite -------------------------
    confirmation = one_message(runtime, GUEST, r"^Confirmée")
    assert "Élodie" in confirmation["text"] and "Demo Bistro" in confirmation["text"]
    assert {"filename": "invite.ics", "content_type": "text/calendar"} in confirmation[
        "attachments"
    ]
    invite = invite_of(runtime, inbox, confirmation)
    starts = datetime.combine(day, datetime.strptime("19:30", "%H:%M").time(), PARIS)
    assert invite.method == "REQUEST" and invite.status == "CONFIRMED"
    assert invite.starts == starts.astimezone(UTC) and invite.ends > invite.starts
    assert invite.attendee.lower().endswith(GUEST)
    open_in_outbox(inbox, runtime, confirmation)
    inbox.set_viewport_size({"width": 1280, "height": 900})
    inbox.screenshot(path=str(_artifact("07-guest-confirmation-email.png")), full_page=True)

    # -- the guest cancels on the manage page ---------------------------------------------
    manage = follow_email_link(inbox, re.compile(r"manage\?token="))
    assert heading(manage) == "Your reservation"
    check_page(manage, "08-guest-manage")
    press(manage, "Cancel my reservation…")
    check_page(manage, "09-guest-cancel-question")
    press(manage, "Yes, cancel my reservation")
    assert heading(manage) == "Reservation cancelled"
    check_page(manage, "10-guest-cancelled")

    # -- staff see it cancelled, and are told -----------------------------------------------
    staff.goto(staff.url.split("?")[0] + f"?date={day.isoformat()}")
    row = staff.locator("tr", has_text="Élodie Martin")
    assert "Cancelled" in row.inner_text()
    check_page(staff, "11-staff-day-view-cancelled")
    one_message(runtime, STAFF_ADDRESS, r"^Annulée par le client.*Élodie Martin")

    # -- the cancellation invite: same event, later sequence ------------------------------
    cancelled = one_message(runtime, GUEST, r"^Annulée")
    cancel = invite_of(runtime, inbox, cancelled)
    assert cancel.method == "CANCEL" and cancel.status == "CANCELLED"
    assert cancel.uid == invite.uid and cancel.sequence > invite.sequence
    context.close()


def _artifact(name: str) -> Any:
    from tests.e2e.pages_check import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / name


def test_every_other_page_a_person_can_reach(runtime: Runtime, chromium: Browser) -> None:
    """The pages the story above does not pass through, each checked the same way: the staff
    email's Decline page, a mistake on the booking form, the sign-in page asking for a link and
    its answer, a day view after sign-out, signing out, a declined guest's page, and that
    guest removing their details."""
    day = datetime.now(PARIS).date() + timedelta(days=3)
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()

    page.goto(f"{runtime.api}/restaurants/demo-bistro/book?date={day}&party_size=3")
    page.get_by_label("20:00").check()
    page.get_by_label("Name").fill("Ana Lima")
    page.get_by_label("Email").fill("not-an-address")
    page.get_by_label("Email").evaluate("field => field.removeAttribute('type')")  # past the
    press(page, "Send booking request")  # browser's own check, as an old browser would send it
    assert page.get_by_role("alert").count() >= 1
    check_page(page, "12-guest-booking-mistake")
    page.get_by_label("Email").fill("ana@example.com")
    press(page, "Send booking request")
    assert heading(page) == "Request received"

    mail = one_message(runtime, STAFF_ADDRESS, r"^Demande de réservation.*Ana Lima")
    open_in_outbox(page, runtime, mail)
    decline = follow_email_link(page, "Refuser")
    assert heading(decline) == "Decline this booking request?"
    check_page(decline, "13-staff-decline-from-email")
    decline.get_by_label("Reason for the guest (optional)").fill("Complet ce soir-là")
    press(decline, "Decline reservation")
    check_page(decline, "14-staff-declined")

    one_message(runtime, "ana@example.com", r"refusée")  # says so; nothing left to manage
    receipt = one_message(runtime, "ana@example.com", r"^Demande reçue")
    open_in_outbox(page, runtime, receipt)  # the receipt's link still shows where it stands
    guest = follow_email_link(page, re.compile(r"manage\?token="))
    assert "Declined" in guest.locator("main").inner_text()
    check_page(guest, "15-guest-declined")
    press(guest, "Remove my details…")  # it is over: the guest may take their details back
    assert heading(guest) == "Remove your details?"
    check_page(guest, "20-guest-remove-details")
    press(guest, "Yes, remove my details")
    assert heading(guest) == "Your details were removed"
    check_page(guest, "21-guest-details-removed")
    guest.goto(guest.url)  # the link from the email, again
    shown = guest.locator("main").inner_text()
    assert "Name, contact and notes removed on" in shown and "Declined" in shown
    assert "Ana Lima" not in shown and "ana@example.com" not in shown
    assert "Complet" not in shown  # the reason written to her went with them

    staff = context.new_page()
    staff.goto(f"{runtime.api}/restaurants/demo-bistro/staff")
    assert heading(staff) == "Staff sign-in needed"
    check_page(staff, "16-staff-not-signed-in")
    staff.get_by_role("link", name="Ask for a sign-in link").click()
    staff.wait_for_load_state()
    check_page(staff, "17-staff-ask-for-a-link")
    staff.get_by_label("Your staff email address").fill(STAFF_ADDRESS)
    press(staff, "Email me a sign-in link")
    assert heading(staff) == "Check your email"
    check_page(staff, "18-staff-check-your-email")

    link_mail = one_message(runtime, STAFF_ADDRESS, r"lien de connexion")
    open_in_outbox(page, runtime, link_mail)
    signed = follow_email_link(page, "Se connecter aux réservations")
    press(signed, "Open the bookings")
    assert heading(signed).startswith("Bookings,")
    press(signed, "Sign out")
    assert heading(signed) == "Signed out"
    check_page(signed, "19-staff-signed-out")
    context.close()
