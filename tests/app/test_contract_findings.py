"""What schemathesis found over the contract (tests/app/test_contract_fuzz.py), each pinned:
docs/reliability.md lists them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.domain.errors import Forbidden
from chalicelib.domain.tokens import same_text
from chalicelib.services.ports import StaffSession
from chalicelib.services.staff_sessions import StaffSessions
from tests.app.conftest import Api, guest_request


@pytest.mark.parametrize("day", ["0011-01-01", "1900-01-01", "1910-12-31"])
def test_availability_of_a_day_long_past_lists_no_seatings(
    api: Api, staff_a: dict[str, str], day: str
) -> None:
    """Was a 500: Paris kept UTC+00:09:21 until 1911, so that day's seatings were off the
    15-minute UTC grid (ValueError), and their offsets with seconds are no RFC 3339 date-time."""
    status, body, _ = api.call("GET", f"/restaurants/bistro-a/availability?date={day}&party_size=2")
    assert status == 200, body
    assert body["slots"] == []


def test_availability_of_a_coming_day_still_lists_them(api: Api, staff_a: dict[str, str]) -> None:
    day = guest_request()["starts_at"][:10]
    status, body, _ = api.call("GET", f"/restaurants/bistro-a/availability?date={day}&party_size=2")
    assert status == 200 and body["slots"] and all(s["available"] for s in body["slots"])


@pytest.mark.parametrize("signature", ["%C2%B6%C3%99", "%F0%9F%8D%B7", "%C3%A9" * 30])
def test_a_sign_in_link_with_a_non_ascii_signature_is_refused(
    api: Api, staff_a: dict[str, str], signature: str
) -> None:
    """Was a 500: hmac.compare_digest raises TypeError on non-ASCII str."""
    query = f"signature={signature}&staff=abc&day=2026-01-01&expires=123456789012"
    status, body, headers = api.call(
        "POST",
        f"/restaurants/bistro-a/staff/sign-in?{query}",
        "a=b",
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 403 and headers["Content-Type"].startswith("text/html"), body


def test_a_staff_link_with_a_non_ascii_signature_is_refused(
    api: Api, staff_a: dict[str, str]
) -> None:
    _, booking, _ = api.call("POST", "/restaurants/bistro-a/reservations", guest_request())
    path = f"/restaurants/bistro-a/reservations/{booking['id']}/respond"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for method, headers in (("GET", {}), ("POST", form)):
        status, body, _ = api.call(
            method,
            path + "?action=accept&expires=123456789012&signature=%C3%A9t%C3%A9",
            "",
            headers,
        )
        assert status == 403, (method, body)


def test_a_form_with_a_non_ascii_csrf_token_is_refused() -> None:
    session = StaffSession(
        session_digest="d",
        restaurant_id="bistro-a",
        staff_emails=("staff@bistro-a.example",),
        token_digest=None,
        csrf_token="expected-token",
        expires_at=datetime(2030, 1, 1, tzinfo=UTC),
    )
    with pytest.raises(Forbidden):
        StaffSessions.check_form(session, "été")
    StaffSessions.check_form(session, "expected-token")


def test_same_text_compares_any_characters() -> None:
    assert same_text("abc", "abc")
    assert not same_text("ébc", "abc")
    assert not same_text("\udcff", "abc")  # a lone surrogate, as undecodable bytes arrive
