"""A person's clicks in a real browser (headless Chromium from Debian, driven by Playwright)
against `make run`'s launcher: staff open the request in the outbox, click Accept, confirm
on the page; the guest opens the confirmation email, follows the manage link and cancels.

`make test` installs Chromium (`apt-get install chromium`) and Playwright; Playwright never
downloads a browser of its own here: it launches Debian's binary by `executable_path`.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.e2e.launcher import Runtime, book, launch

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

STAFF = {"Authorization": "Bearer stf_e2e-fixed-staff-token"}  # launch()'s fixed staff token
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp/reservations-screenshots"))


def chromium_binary() -> str:
    found = os.environ.get("CHROMIUM") or shutil.which("chromium")
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


def open_email(page: Page, runtime: Runtime, subject: str) -> None:
    """The outbox as a person sees it: the list, then the message whose subject matches."""
    runtime.wait_for_messages(lambda m: re.search(subject, m["subject"]) is not None)
    page.goto(f"http://127.0.0.1:{runtime.outbox_port}/")
    page.get_by_role("link", name=re.compile(subject)).first.click()
    page.wait_for_load_state()


def click_link_in_email(page: Page, name: str | re.Pattern[str]) -> Page:
    """Links in the outbox's email frame open a new tab, as from a mail client."""
    with page.context.expect_page() as opened:
        page.frame_locator("iframe").get_by_role("link", name=name).click()
    tab = opened.value
    tab.wait_for_load_state()
    return tab


def press(page: Page, button: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=button).click()


def status_of(runtime: Runtime, reservation_id: str) -> dict[str, Any]:
    status, body = runtime.call(
        "GET", f"/restaurants/demo-bistro/reservations/{reservation_id}", headers=STAFF
    )
    assert status == 200, body
    return dict(body)


def test_staff_accept_then_guest_cancel_by_clicking(runtime: Runtime, chromium: Browser) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    day = date.today() + timedelta(days=3)
    booked = book(runtime, "Chromium Guest", day, "19:30", party_size=2)
    context = chromium.new_context(viewport={"width": 390, "height": 844})  # a phone
    page = context.new_page()

    # The demo bistro writes in French (its locale): staff and guests alike.
    open_email(page, runtime, r"^Demande de réservation\s: Chromium Guest")
    staff = click_link_in_email(page, "Accepter")
    assert staff.locator("h1").inner_text() == "Accept this booking request?"
    assert "Demo Bistro" in staff.locator("header").inner_text()
    staff.screenshot(path=str(SCREENSHOTS / "staff-accept.png"), full_page=True)
    assert status_of(runtime, booked["id"])["status"] == "PENDING"
    press(staff, "Accept reservation")
    assert staff.locator("h1").inner_text() == "Reservation accepted"
    staff.screenshot(path=str(SCREENSHOTS / "staff-accepted.png"), full_page=True)
    assert status_of(runtime, booked["id"])["status"] == "ACCEPTED"

    open_email(page, runtime, r"^Confirmée\s: votre table chez Demo Bistro")
    guest = click_link_in_email(page, re.compile(r"manage\?token="))
    assert guest.locator("h1").inner_text() == "Your reservation"
    press(guest, "Cancel my reservation…")
    assert guest.locator("h1").inner_text() == "Cancel this reservation?"
    guest.screenshot(path=str(SCREENSHOTS / "guest-confirm-cancel.png"), full_page=True)
    assert status_of(runtime, booked["id"])["status"] == "ACCEPTED"
    press(guest, "Yes, cancel my reservation")
    assert guest.locator("h1").inner_text() == "Reservation cancelled"
    cancelled = status_of(runtime, booked["id"])
    assert (cancelled["status"], cancelled["cancelled_by"]) == ("CANCELLED", "guest")
    [email] = runtime.wait_for_messages(
        lambda m: m["subject"].startswith("Annulée\u00a0: votre réservation chez Demo Bistro")
    )
    assert email["to"] == ["guest@example.com"]

    guest.reload()  # back on the page later: only the outcome, no button
    assert "Cancelled" in guest.locator("main").inner_text()
    assert guest.get_by_role("button").count() == 0
    context.close()
