"""Failures and redeliveries: after each, exactly one email per event and exact totals."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalicelib.wiring import bootstrap
from localdev.faults import FaultInjector
from tests.pipeline import (
    Flow,
    assert_exactly_once,
    book_many,
    entries_sent,
    sent_emails,
    staff_emails_per_reservation,
)


def test_putevents_failed_entries_are_resent_alone(flow: Flow) -> None:
    ids = book_many(flow, 3)
    first_call = {"done": False}

    def fail_first_entry_once(service: str, operation: str, entry: dict[str, Any]) -> bool:
        if first_call["done"] or ids[0] not in entry["Detail"]:
            return False
        first_call["done"] = True
        return True

    events = bootstrap.wiring().client("events")
    sizes = entries_sent(events)
    FaultInjector({("events", "PutEvents"): 1.0}, decide=fail_first_entry_once).install(events)
    assert flow.pipeline.run_stream(flow.pipeline.stream_records()) == {"batchItemFailures": []}
    assert sizes == [3, 1]  # the retry carried only the failed entry
    flow.pipeline.drain()
    assert_exactly_once(flow, ids)


def test_an_entry_that_keeps_failing_stops_the_batch_at_its_record(flow: Flow) -> None:
    ids = book_many(flow, 3)
    stuck = {"on": True}
    FaultInjector(
        {("events", "PutEvents"): 1.0},
        decide=lambda s, o, entry: stuck["on"] and ids[1] in entry["Detail"],
    ).install(bootstrap.wiring().client("events"))
    records = flow.pipeline.stream_records()
    response = flow.pipeline.run_stream(records)
    [failure] = response["batchItemFailures"]
    failed_record = next(
        r for r in records if r["dynamodb"]["SequenceNumber"] == failure["itemIdentifier"]
    )
    assert failed_record["dynamodb"]["NewImage"]["id"]["S"] == ids[1]
    # Lambda resumes the shard at the reported record: it and everything after come again.
    stuck["on"] = False
    resumed = records[records.index(failed_record) :]
    assert flow.pipeline.run_stream(resumed) == {"batchItemFailures": []}
    flow.pipeline.drain()
    assert_exactly_once(flow, ids)


def test_ses_throttling_fails_only_those_messages_and_the_retry_sends_once(flow: Flow) -> None:
    ids = book_many(flow, 3)
    flow.pipeline.run_stream(flow.pipeline.stream_records())
    throttled = {"on": True}

    def throttle(params: dict[str, Any], **_: Any) -> None:
        # Raised before the request exists: in-process moto would otherwise still send it.
        if throttled["on"] and ids[2] in params["RawMessage"]["Data"].decode():
            error = {"Error": {"Code": "Throttling", "Message": "Maximum sending rate exceeded."}}
            raise ClientError(error, "SendRawEmail")  # type: ignore[arg-type]

    ses = bootstrap.wiring().client("ses")
    ses.meta.events.register("before-parameter-build.ses.SendRawEmail", throttle)
    messages = flow.pipeline.staff_messages()
    response = flow.pipeline.run_staff(messages)
    assert len(response["batchItemFailures"]) == 1
    assert staff_emails_per_reservation() == Counter(ids[:2])
    throttled["on"] = False
    flow.pipeline.run_staff(messages)  # the visibility timeout passed: the batch comes again
    flow.pipeline.drain()
    assert_exactly_once(flow, ids)


def test_a_stream_handler_crash_mid_batch_then_the_whole_batch_again(flow: Flow) -> None:
    ids = book_many(flow, 12)  # 12 events: two PutEvents calls
    calls = {"n": 0}

    def crash_on_second_call(params: dict[str, Any], **_: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise ClientError(
                {"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "PutEvents"
            )

    bootstrap.wiring().client("events").meta.events.register(
        "before-call.eventbridge.PutEvents", crash_on_second_call
    )
    records = flow.pipeline.stream_records()
    with pytest.raises(ClientError):
        flow.pipeline.run_stream(records)  # the first 10 events went out, then it crashed
    assert flow.pipeline.run_stream(records) == {"batchItemFailures": []}  # Lambda retries
    flow.pipeline.drain()
    assert_exactly_once(flow, ids)


def test_the_same_stream_batch_and_the_same_messages_twice(flow: Flow) -> None:
    ids = book_many(flow, 4)
    records = flow.pipeline.stream_records()
    flow.pipeline.run_stream(records)
    flow.pipeline.run_stream(records)  # duplicate delivery: every event published twice
    messages = flow.pipeline.staff_messages()
    assert len(messages) == 8
    flow.pipeline.run_staff(messages, delete=False)
    flow.pipeline.run_staff(messages)  # and every message delivered twice more
    events = flow.pipeline.bus_events()
    assert len(events) == 8
    for event in events + events:
        flow.pipeline.run_bus(event)
    assert_exactly_once(flow, ids)


def test_an_sqs_handler_crash_after_some_emails(flow: Flow) -> None:
    ids = book_many(flow, 3)
    flow.pipeline.run_stream(flow.pipeline.stream_records())
    messages = flow.pipeline.staff_messages()
    sent = {"n": 0}

    def crash_after_two(params: dict[str, Any], **_: Any) -> None:
        sent["n"] += 1
        if sent["n"] == 3:
            raise RuntimeError("Lambda ran out of time")

    bootstrap.wiring().client("ses").meta.events.register(
        "before-call.ses.SendRawEmail", crash_after_two
    )
    flow.pipeline.run_staff(messages, delete=False)  # third message failed
    flow.pipeline.run_staff(messages)  # the whole batch again
    flow.pipeline.drain()
    assert_exactly_once(flow, ids)


def test_every_email_sent_or_skipped_has_a_log_line_with_its_ids(
    flow: Flow, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "INFO")  # read when the consumer is built
    booked = flow.book()
    flow.pipeline.run_stream(flow.pipeline.stream_records())
    messages = flow.pipeline.staff_messages()
    caplog.clear()
    flow.pipeline.run_staff(messages, delete=False)
    flow.pipeline.run_staff(messages)  # the same message again
    lines = [vars(r) for r in caplog.records if r.getMessage().startswith("email ")]
    said = [(line["msg"], line["consumer"], line["reservation_id"]) for line in lines]
    assert said == [
        ("email sent", "notify_staff", booked["id"]),
        ("email skipped: event already handled", "notify_staff", booked["id"]),
    ]
    assert lines[0]["event_id"] == lines[1]["event_id"] and lines[0]["event_id"]
    assert sum(e.headers["X-Reservation-Id"] == booked["id"] for e in sent_emails()) == 1
