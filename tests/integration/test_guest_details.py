"""Guests' details removed on moto, through the real handlers and the API: the guest's DELETE
once the reservation is over, the scheduled run the retention period after the seating (the
due index on the table), and afterwards no trace of the guest anywhere in the table: not on the
reservation, its day-index copy, its timeline, nor a consumer's idempotency record. The removal
is no event: nobody is emailed, the totals stay. The run's clock is injected (90 days)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.adapters.stream import is_reservation_change
from chalicelib.services.guest_details import GuestDetails
from chalicelib.wiring import bootstrap
from tests.pipeline import RES, Flow, sent_emails

GUEST = ("Grace Hopper", "grace@example.com", "+14155550100", "Birthday")


def run_at(flow: Flow, clock: Callable[[], datetime], days: int = 90) -> dict[str, Any]:
    wiring = bootstrap.wiring()
    wiring.__dict__["guest_details"] = GuestDetails(
        wiring.stores.reservations, wiring.stores.timeline, timedelta(days=days), clock
    )
    return flow.pipeline.run_retention()


def table_items(flow: Flow) -> list[dict[str, Any]]:
    client, name = flow.session.client("dynamodb"), os.environ["TABLE_NAME"]
    items: list[dict[str, Any]] = []
    for page in client.get_paginator("scan").paginate(TableName=name):
        items += page["Items"]
    return items


def traces(flow: Flow) -> list[str]:
    """Every item of the table that names the guest, by its key (the guest's bookings are the
    only ones in these tests, so any mention is theirs)."""
    return [
        f"{item['PK']['S']} {item['SK']['S']}"
        for item in table_items(flow)
        if any(value in json.dumps(item) for value in GUEST)
    ]


def test_a_guest_removes_their_details_once_over_and_no_trace_is_left(flow: Flow) -> None:
    booked = flow.book(hhmm="19:30")
    guest = f"?token={booked['manage_token']}"
    path = f"{RES}/{booked['id']}"
    flow.pipeline.drain()  # receipt and staff email sent: timeline steps, idempotency records
    assert traces(flow)  # the reservation, its timeline's email steps

    status, body, _ = flow.api.call("DELETE", f"{path}/guest{guest}")
    assert status == 409 and body["error"]["code"] == "reservation_not_over", body
    assert flow.api.call("POST", f"{path}/cancel{guest}")[0] == 200
    flow.pipeline.drain()
    emails, summary = len(sent_emails()), flow.summary()

    status, removed, _ = flow.api.call("DELETE", f"{path}/guest{guest}")
    assert status == 200, removed
    assert (removed["guest"], removed["notes"], removed["guest_details_removed_by"]) == (
        None, None, "guest")  # fmt: skip
    assert (removed["status"], removed["party_size"]) == ("CANCELLED", 2)
    assert traces(flow) == []  # the idempotency records hold message ids only

    records = flow.pipeline.stream_records()  # the reservation's, and its timeline steps'
    [change] = [r for r in records if is_reservation_change(r)]
    assert "guest" not in change["dynamodb"]["NewImage"]
    assert flow.pipeline.run_stream(records) == {"batchItemFailures": []}
    assert flow.pipeline.failure_queue_bodies() == []  # read as no event, not set aside
    flow.pipeline.drain()
    assert len(sent_emails()) == emails and flow.summary() == summary  # no event, no email

    status, again, _ = flow.api.call("DELETE", f"{path}/guest{guest}")
    assert (status, again["version"]) == (200, removed["version"])  # done already: as it is
    status, page, _ = flow.api.call("GET", f"{path}{guest}")
    assert status == 200 and page["guest"] is None
    status, sheet, _ = flow.api.call(
        "GET", f"{RES}?date={booked['starts_at'][:10]}", None, flow.staff
    )
    assert [r["guest"] for r in sheet["reservations"]] == [None]


def test_the_retention_run_removes_them_the_period_after_the_seating(flow: Flow) -> None:
    accepted = flow.book(hhmm="19:30")
    declined = flow.book(hhmm="20:00", party_size=3)
    waiting = flow.book(hhmm="20:30", party_size=4)
    flow.pipeline.drain()
    assert flow.api.call("POST", f"{RES}/{accepted['id']}/accept", None, flow.staff)[0] == 200
    reason = {"reason": "Sorry Grace, we are closed"}
    assert flow.api.call("POST", f"{RES}/{declined['id']}/decline", reason, flow.staff)[0] == 200
    flow.pipeline.drain()
    emails, summary = len(sent_emails()), flow.summary()
    seating = datetime.fromisoformat(accepted["starts_at"]).astimezone(UTC)

    assert run_at(flow, lambda: seating + timedelta(days=90, seconds=-1))["removed"] == 0
    run = run_at(flow, lambda: seating + timedelta(days=90, minutes=20))
    assert run == {"removed": 1, "skipped": 0, "max_lateness_seconds": 1200.0}
    run = run_at(flow, lambda: seating + timedelta(days=90, hours=1))
    assert (run["removed"], run["skipped"]) == (1, 0)  # the 20:00 seating's turn
    flow.pipeline.drain()

    left = traces(flow)
    # Only the request nobody answered keeps its guest: still in the unanswered part of the
    # index (its expiry would decline it first, then the next run would take it).
    assert left and all(waiting["id"] in key for key in left), left
    assert run_at(flow, lambda: seating + timedelta(days=91))["removed"] == 0
    assert len(sent_emails()) == emails and flow.summary() == summary
    status, body, _ = flow.api.call("GET", f"{RES}/{declined['id']}", None, flow.staff)
    assert (body["guest"], body["decline_reason"], body["status"]) == (None, None, "DECLINED")
    assert body["guest_details_removed_by"] == "retention"
    status, body, _ = flow.api.call("POST", f"{RES}/{accepted['id']}/cancel", None, flow.staff)
    assert status == 409 and body["error"]["code"] == "guest_details_removed"


def test_the_real_schedule_removes_nothing_recent(flow: Flow) -> None:
    booked = flow.book(hhmm="19:30")
    flow.api.call("POST", f"{RES}/{booked['id']}/cancel?token={booked['manage_token']}")
    bootstrap.reset()  # the wiring's own clock and the stage's retention (90 days)
    assert flow.pipeline.run_retention() == {"removed": 0, "skipped": 0, "max_lateness_seconds": 0}
