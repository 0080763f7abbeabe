"""A burst of booking requests from one client address, through the app on moto (the same
TransactWriteItems as on AWS): the first `max_requests_per_client_per_day` are booked, the rest
answered 429 with Retry-After, while requests from other addresses, interleaved with the burst,
are all booked. The figures are docs/reliability.md's."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tests.app.conftest import ADMIN, Api, guest_request
from tests.app.test_request_limits import from_address
from tests.builders import restaurant_spec
from tests.pipeline import Flow

BURST, LIMIT, OTHERS = 30, 20, 10
PATH = "/restaurants/burst-bistro/reservations"
TIMES = ("12:00", "12:30", "13:00", "19:00", "19:30", "20:00", "20:30", "21:00")


def booking(n: int, who: str) -> dict[str, Any]:
    body = guest_request(TIMES[n % len(TIMES)], party_size=1)
    body["guest"] = {"name": "Guest", "email": f"{who}-{n}@example.com"}
    return body


def post(api: Api, address: str, body: dict[str, Any]) -> tuple[int, dict[str, str]]:
    with from_address(api, address):
        status, answer, headers = api.call("POST", PATH, body)
    if status == 429:
        assert answer["error"]["code"] == "too_many_requests", answer
    else:
        assert status == 201, answer
    return status, headers


def test_a_burst_from_one_client_is_cut_at_the_limit_while_others_book(flow: Flow) -> None:
    spec = restaurant_spec("burst-bistro", max_requests_per_client_per_day=LIMIT)
    status, body, _ = flow.api.call("POST", "/restaurants", spec.model_dump(mode="json"), ADMIN)
    assert status == 201, body

    burst: list[int] = []
    others: list[int] = []
    retry_after: set[str] = set()
    for n in range(BURST):
        status, headers = post(flow.api, "198.51.100.7", booking(n, "burst"))
        burst.append(status)
        if status == 429:
            retry_after.add(headers["Retry-After"])
        if n % 3 == 0:  # another client every third request of the burst
            other_status, _ = post(flow.api, f"203.0.113.{n}", booking(n, "other"))
            others.append(other_status)

    assert burst == [201] * LIMIT + [429] * (BURST - LIMIT)
    assert others == [201] * OTHERS
    assert len(retry_after) <= 2 and all(int(value) >= 1 for value in retry_after)
    # what the day sheet holds: the limit's worth from the burst, every other client's
    status, token, _ = flow.api.call(
        "POST", "/restaurants/burst-bistro/staff-tokens", {"label": "desk"}, ADMIN
    )
    staff = {"Authorization": "Bearer " + token["token"]}
    day = guest_request()["starts_at"][:10]
    status, sheet, _ = flow.api.call("GET", PATH + f"?date={day}", headers=staff)
    assert status == 200, sheet
    kinds = Counter(r["guest"]["email"].split("-")[0] for r in sheet["reservations"])
    assert kinds == {"burst": LIMIT, "other": OTHERS}
