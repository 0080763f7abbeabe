"""The security headers and limits every response carries, through chalice.test.Client: JSON
answers, pages, the stylesheet and Chalice's own errors alike."""

from __future__ import annotations

import json
import re

import pytest

from chalicelib.web.headers import STRICT_TRANSPORT, TWO_YEARS
from chalicelib.web.http import MAX_BODY_BYTES
from chalicelib.web.pages import stylesheet
from chalicelib.wiring import bootstrap
from tests.app.conftest import ADMIN, Api, guest_request

RES = "/restaurants/bistro-a/reservations"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def raw_call(
    api: Api, method: str, path: str, headers: dict[str, str]
) -> tuple[int, dict[str, str]]:
    sent = {"Content-Type": "application/json", **headers}
    response = getattr(api.client.http, method.lower())(path, headers=sent, body=b"{}")
    return response.status_code, dict(response.headers)


def every_route(api: Api, staff: dict[str, str]) -> list[tuple[str, str, int, dict[str, str]]]:
    """One call to every route and method of the app: (method, path, status, headers)."""
    from app import app

    answers = []
    for path, methods in app.routes.items():
        concrete = re.sub(r"\{asset\}", stylesheet().name, path)
        concrete = re.sub(r"\{[a-z_]+\}", "bistro-a", concrete)
        for method in methods:
            answers.append((method, concrete, *raw_call(api, method, concrete, staff)))
    return answers


def test_every_response_carries_the_security_headers(api: Api, staff_a: dict[str, str]) -> None:
    answers = every_route(api, staff_a)
    answers.append(("PATCH", RES, *raw_call(api, "PATCH", RES, {})))  # Chalice's own 405
    assert len(answers) >= 30
    for method, path, status, headers in answers:
        where = (method, path, status)
        assert headers.get("X-Content-Type-Options") == "nosniff", where
        assert headers.get("Strict-Transport-Security") == STRICT_TRANSPORT, where
        assert headers.get("Referrer-Policy") == "no-referrer", where
        assert headers.get("X-Frame-Options") == "DENY", where
        assert "frame-ancestors 'none'" in headers.get("Content-Security-Policy", ""), where
        assert "server" not in {name.lower() for name in headers}, where


def test_hsts_lasts_at_least_a_year_and_covers_subdomains() -> None:
    assert TWO_YEARS >= 365 * 24 * 3600
    assert STRICT_TRANSPORT == f"max-age={TWO_YEARS}; includeSubDomains"


def test_pages_keep_their_own_policy_and_json_gets_the_strictest(api: Api) -> None:
    _, _, json_headers = api.call("GET", "/restaurants/nowhere")
    assert json_headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    _, _, page_headers = api.call("GET", "/restaurants/nowhere/book")
    assert "style-src 'self'" in page_headers["Content-Security-Policy"]


def test_no_strict_transport_on_the_local_stage(
    api: Api, staff_a: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUBLIC_BASE_URL", "http://127.0.0.1:8000")  # the local stage's URL
    bootstrap.reset()
    status, _, headers = api.call("GET", "/restaurants/bistro-a")
    assert status == 200 and headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in headers


def test_a_json_body_over_the_bound_is_413_in_the_error_shape(
    api: Api, staff_a: dict[str, str]
) -> None:
    oversized = '{"notes": "' + "x" * MAX_BODY_BYTES + '"}'
    for method, path, headers in (
        ("POST", RES, {}),
        ("POST", "/restaurants", ADMIN),
        ("PUT", "/restaurants/bistro-a", ADMIN),
        ("POST", "/restaurants/bistro-a/staff-tokens", ADMIN),
    ):
        status, body, _ = api.call(method, path, oversized, headers)
        assert status == 413, (path, body)
        assert body["error"] == {
            "code": "body_too_large",
            "message": f"the body must be at most {MAX_BODY_BYTES} bytes",
            "field": None,
        }


def test_a_form_over_the_bound_is_413_as_a_page(api: Api, staff_a: dict[str, str]) -> None:
    oversized = "name=" + "x" * MAX_BODY_BYTES
    for path in ("/restaurants/bistro-a/book", "/restaurants/bistro-a/staff/sign-in-link"):
        status, page, headers = api.call("POST", path, oversized, FORM)
        assert status == 413, (path, page)
        assert headers["Content-Type"].startswith("text/html")
        assert '<p class="error" role="alert">What was sent is too long' in page


def test_a_body_at_the_bound_is_read(api: Api, staff_a: dict[str, str]) -> None:
    body = json.dumps(guest_request(notes="x" * 500))
    padded = body + " " * (MAX_BODY_BYTES - len(body.encode()))  # JSON allows trailing spaces
    assert len(padded.encode()) == MAX_BODY_BYTES
    status, answer, _ = api.call("POST", RES, padded)
    assert status == 201, answer
