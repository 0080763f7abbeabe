"""No capacity hoarding, through the API: 429 with Retry-After and the JSON error shape when a
client address or a guest email is past the restaurant's daily limit; other clients still
book; an Idempotency-Key replay counts once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.app.conftest import ADMIN, Api, guest_request
from tests.builders import restaurant_spec

PATH = "/restaurants/bistro-a/reservations"


@contextmanager
def from_address(api: Api, address: str) -> Iterator[None]:
    """Requests from `address` (chalice's local gateway says 127.0.0.1 otherwise), as API
    Gateway's requestContext.identity.sourceIp would."""
    converter: Any = api.client.http._local_gateway.event_converter
    converter.LOCAL_SOURCE_IP = address
    try:
        yield
    finally:
        del converter.LOCAL_SOURCE_IP


def create(api: Api, **limits: int) -> None:
    spec = restaurant_spec("bistro-a", **limits).model_dump(mode="json")
    status, body, _ = api.call("POST", "/restaurants", spec, ADMIN)
    assert status == 201, body


def as_guest(email: str, hhmm: str = "19:30") -> dict[str, Any]:
    return guest_request(hhmm, guest={"name": "Ada", "email": email})


def seconds_to_paris_midnight() -> float:
    now = datetime.now(ZoneInfo("Europe/Paris"))
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), now.tzinfo)
    return (midnight - now).total_seconds()


def test_an_email_past_its_limit_gets_429_with_retry_after(api: Api) -> None:
    create(api, max_requests_per_email_per_day=2)
    key = {"Idempotency-Key": "first"}
    status, first, _ = api.call("POST", PATH, as_guest("ada@example.com"), key)
    assert status == 201, first
    status, _, _ = api.call("POST", PATH, as_guest("ada@example.com", "20:00"))
    assert status == 201

    status, body, headers = api.call("POST", PATH, as_guest("Ada@Example.com", "20:30"))
    assert status == 429, body
    assert body == {
        "error": {"code": "too_many_requests", "message": body["error"]["message"],
                  "field": "guest.email"}
    }  # fmt: skip
    assert "too many booking requests today for this guest email" in body["error"]["message"]
    retry_after = int(headers["Retry-After"])
    assert 1 <= retry_after and abs(retry_after - seconds_to_paris_midnight()) < 5

    # the first request retried with its key is answered as before, whatever the count
    status, again, headers = api.call("POST", PATH, as_guest("ada@example.com"), key)
    assert (status, again["id"], headers["Idempotent-Replayed"]) == (201, first["id"], "true")
    status, _, _ = api.call("POST", PATH, as_guest("grace@example.com"))
    assert status == 201


def test_a_client_past_its_limit_gets_429_while_others_book(api: Api) -> None:
    create(api, max_requests_per_client_per_day=3)
    with from_address(api, "198.51.100.7"):
        for n in range(3):
            status, _, _ = api.call("POST", PATH, as_guest(f"g{n}@example.com"))
            assert status == 201
        status, body, headers = api.call("POST", PATH, as_guest("g9@example.com"))
    assert status == 429 and int(headers["Retry-After"]) >= 1
    assert (body["error"]["code"], body["error"]["field"]) == ("too_many_requests", None)
    assert "this client address" in body["error"]["message"]
    with from_address(api, "203.0.113.9"):
        status, body, _ = api.call("POST", PATH, as_guest("h@example.com"))
    assert status == 201, body
    status, body, _ = api.call("POST", PATH, as_guest("i@example.com"))  # 127.0.0.1
    assert status == 201, body


def test_the_limits_are_settings_and_not_shown_to_guests(api: Api) -> None:
    spec = restaurant_spec(
        "bistro-a", max_requests_per_client_per_day=50, max_requests_per_email_per_day=5
    ).model_dump(mode="json")
    status, stored, _ = api.call("POST", "/restaurants", spec, ADMIN)
    assert status == 201, stored
    assert (stored["max_requests_per_client_per_day"], stored["max_requests_per_email_per_day"]) \
        == (50, 5)  # fmt: skip
    status, public, _ = api.call("GET", "/restaurants/bistro-a")
    assert status == 200 and "max_requests_per_email_per_day" not in public
    spec = {
        **restaurant_spec("bistro-b").model_dump(mode="json"),
        "max_requests_per_email_per_day": 0,
    }
    status, body, _ = api.call("POST", "/restaurants", spec, ADMIN)
    assert status == 422 and body["error"]["field"] == "max_requests_per_email_per_day"
