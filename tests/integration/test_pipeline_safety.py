"""No recursion from bookkeeping writes; poison records are set aside without blocking."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.stream import event_from_record, is_reservation_change
from chalicelib.wiring import bootstrap
from tests.app.conftest import guest_request
from tests.pipeline import (
    RES,
    Flow,
    book_many,
    entries_sent,
    sent_emails,
)


def test_aggregate_and_bookkeeping_writes_produce_no_events(flow: Flow) -> None:
    published = entries_sent(bootstrap.wiring().client("events"))
    ids = book_many(flow, 2)
    flow.pipeline.drain()
    flow.api.call("POST", f"{RES}/{ids[0]}/accept", None, flow.staff)
    flow.api.call("POST", f"{RES}/{ids[1]}/decline", None, flow.staff)
    flow.pipeline.drain()  # guest emails, summaries, idempotency records written, fed back
    flow.pipeline.drain()

    records = flow.pipeline.handled_records
    entities = {r["dynamodb"].get("NewImage", {}).get("entity", {}).get("S") for r in records}
    assert {"daily_summary", "applied_event", "occupancy", "restaurant"} <= entities
    bookkeeping = [r for r in records if not is_reservation_change(r)]
    assert any(r["dynamodb"]["Keys"]["PK"]["S"].startswith("IDEMPOTENCY#") for r in bookkeeping)
    assert all(event_from_record(r) is None for r in bookkeeping)
    assert sum(published) == 4  # 2 requested, 1 accepted, 1 declined: nothing else, ever
    assert len(sent_emails()) == 2 + 2 + 2  # two to staff; to guests two receipts, two answers


def poisoned(records: list[dict[str, Any]], reservation_id: str) -> list[dict[str, Any]]:
    for record in records:
        if record["dynamodb"].get("NewImage", {}).get("id", {}).get("S") == reservation_id:
            record["dynamodb"]["NewImage"]["party_size"] = {"S": "a lot"}
    return records


def test_a_poison_record_goes_to_the_failure_queue_and_the_rest_flows(flow: Flow) -> None:
    ids = book_many(flow, 3)
    records = poisoned(flow.pipeline.stream_records(), ids[1])
    assert flow.pipeline.run_stream(records) == {"batchItemFailures": []}
    [quarantined] = flow.pipeline.failure_queue_bodies()
    assert "not a readable reservation" in quarantined["reason"]
    assert quarantined["record"]["dynamodb"]["NewImage"]["id"]["S"] == ids[1]
    flow.pipeline.drain()
    staff = [e.headers["X-Reservation-Id"] for e in sent_emails() if "Booking" in e.subject]
    assert sorted(staff) == sorted([ids[0], ids[2]])


def test_a_poison_record_that_cannot_be_set_aside_is_reported(flow: Flow) -> None:
    ids = book_many(flow, 3)
    records = poisoned(flow.pipeline.stream_records(), ids[1])

    def unavailable(**_: Any) -> None:
        raise ClientError(
            {"Error": {"Code": "ServiceUnavailable", "Message": "down"}}, "SendMessage"
        )

    bootstrap.wiring().client("sqs").meta.events.register(
        "before-parameter-build.sqs.SendMessage", unavailable
    )
    response = flow.pipeline.run_stream(records)
    [failure] = response["batchItemFailures"]
    poison = next(
        r for r in records if r["dynamodb"]["SequenceNumber"] == failure["itemIdentifier"]
    )
    assert poison["dynamodb"]["NewImage"]["id"]["S"] == ids[1]
    flow.pipeline.drain()  # only the record before it was published
    assert {e.headers["X-Reservation-Id"] for e in sent_emails()} == {ids[0]}
    assert json.dumps(response)


def test_a_refused_booking_leaves_no_stream_record_and_later_ones_still_flow(flow: Flow) -> None:
    full = [flow.book(hhmm="19:00", party_size=8)["id"] for _ in range(5)]
    status, body, _ = flow.api.call("POST", RES, guest_request(hhmm="19:30", party_size=2))
    assert (status, body["error"]["code"]) == (409, "slot_full")  # a cancelled transaction
    later = flow.book(hhmm="12:00")["id"]
    records = [r for r in flow.pipeline.stream_records() if is_reservation_change(r)]
    assert [r["dynamodb"]["NewImage"]["id"]["S"] for r in records] == [*full, later]
