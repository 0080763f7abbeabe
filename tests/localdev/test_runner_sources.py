"""The local runner's event sources against moto: what each Lambda rule looks like end to end."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from localdev.aws_emulation import serialize_dynamodb_requests
from localdev.console import Console
from localdev.runner import BusSource, QueueSource, StreamSettings, StreamSource

CONSOLE = Console(io.StringIO())
# A filter like an app's (the engine knows no app): inserts and changes of one item kind.
ONLY_RESERVATIONS = {
    "eventName": ["INSERT", "MODIFY"],
    "dynamodb": {"NewImage": {"entity": {"S": ["reservation"]}}},
}


@pytest.fixture
def aws() -> Iterator[Any]:
    serialize_dynamodb_requests()
    with mock_aws():
        yield boto3.session.Session()


@pytest.fixture
def table(aws: Any) -> tuple[Any, str]:
    dynamodb = aws.client("dynamodb")
    dynamodb.create_table(
        TableName="runner-test",
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    arn = dynamodb.describe_table(TableName="runner-test")["Table"]["LatestStreamArn"]
    return dynamodb, arn


def put(dynamodb: Any, key: str, entity: str) -> None:
    dynamodb.put_item(TableName="runner-test", Item={"PK": {"S": key}, "entity": {"S": entity}})


def settings(**overrides: Any) -> StreamSettings:
    values: dict[str, Any] = {
        "batch_size": 100, "batching_window_seconds": 0, "starting_position": "TRIM_HORIZON",
        "maximum_retry_attempts": 2, "bisect_on_error": False, "maximum_record_age_seconds": -1,
        "filter_patterns": (), "reports_batch_item_failures": True,
    }  # fmt: skip
    values.update(overrides)
    return StreamSettings(**values)


class Recorder:
    def __init__(self, fail: bool = False) -> None:
        self.batches: list[list[str]] = []
        self._fail = fail

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.batches.append([r["dynamodb"]["Keys"]["PK"]["S"] for r in event["Records"]])
        assert context.get_remaining_time_in_millis() > 0
        if self._fail:
            raise RuntimeError("handler failed")
        return {"batchItemFailures": []}


def drain(source: Any) -> None:
    for _ in range(50):
        if not source.poll():
            return


def stream_source(aws: Any, arn: str, handler: Any, sent: list[Any], **kwargs: Any) -> StreamSource:
    source = StreamSource(
        "handler", handler, kwargs.pop("stream_settings", settings()),
        aws.client("dynamodbstreams"), arn, lambda body, records: sent.append(body), CONSOLE,
        retry_delay=lambda attempt: None, **kwargs,
    )  # fmt: skip
    source.start_position()
    return source


def test_filter_criteria_drop_other_items_before_batching(aws: Any, table: Any) -> None:
    dynamodb, arn = table
    for i in range(3):
        put(dynamodb, f"r{i}", "reservation")
        put(dynamodb, f"o{i}", "occupancy")
    handler, sent = Recorder(), list[Any]()
    only = settings(filter_patterns=(ONLY_RESERVATIONS,))
    drain(stream_source(aws, arn, handler, sent, stream_settings=only))
    assert handler.batches == [["r0", "r1", "r2"]] and sent == []


def test_batch_size(aws: Any, table: Any) -> None:
    dynamodb, arn = table
    for i in range(25):
        put(dynamodb, f"k{i:02d}", "reservation")
    handler, sent = Recorder(), list[Any]()
    drain(stream_source(aws, arn, handler, sent, stream_settings=settings(batch_size=10)))
    assert [len(b) for b in handler.batches] == [10, 10, 5]
    assert [k for b in handler.batches for k in b] == [f"k{i:02d}" for i in range(25)]


def test_batching_window_waits_for_more_records(aws: Any, table: Any) -> None:
    dynamodb, arn = table
    put(dynamodb, "first", "reservation")
    handler, sent = Recorder(), list[Any]()
    source = stream_source(
        aws, arn, handler, sent, stream_settings=settings(batching_window_seconds=0.3)
    )
    assert source.poll() is False and handler.batches == []  # the window is still open
    put(dynamodb, "second", "reservation")
    time.sleep(0.35)
    source.poll()
    assert handler.batches == [["first", "second"]]


def test_retries_then_the_on_failure_destination(aws: Any, table: Any) -> None:
    dynamodb, arn = table
    put(dynamodb, "a", "reservation")
    put(dynamodb, "b", "reservation")
    handler, sent, with_records = Recorder(fail=True), list[Any](), list[Any]()

    def destination(body: dict[str, Any], records: list[dict[str, Any]]) -> None:
        sent.append(body)
        with_records.append(records)

    source = StreamSource(
        "handler", handler, settings(), aws.client("dynamodbstreams"), arn, destination,
        CONSOLE, retry_delay=lambda attempt: None,
    )  # fmt: skip
    source.start_position()
    drain(source)
    assert handler.batches == [["a", "b"]] * 3  # maximum_retry_attempts=2
    [failure] = sent
    [records] = with_records  # what an S3 destination keeps
    assert [r["dynamodb"]["Keys"]["PK"]["S"] for r in records] == ["a", "b"]
    info = failure["DDBStreamBatchInfo"]
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert (info["batchSize"], info["streamArn"]) == (2, arn)
    assert int(info["startSequenceNumber"]) < int(info["endSequenceNumber"])


def test_records_older_than_the_maximum_age_skip_the_handler(aws: Any, table: Any) -> None:
    dynamodb, arn = table
    put(dynamodb, "old", "reservation")
    handler, sent = Recorder(), list[Any]()
    source = stream_source(
        aws, arn, handler, sent, stream_settings=settings(maximum_record_age_seconds=60),
        clock=lambda: time.time() + 120,
    )  # fmt: skip
    drain(source)
    assert handler.batches == []
    assert sent[0]["requestContext"]["condition"] == "RecordAgeExceeded"


def queue(aws: Any, name: str, **attributes: str) -> tuple[str, str]:
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


def test_sqs_deletes_only_the_successes_and_redrives_to_the_dlq(aws: Any) -> None:
    sqs = aws.client("sqs")
    dlq_url, dlq_arn = queue(aws, "dlq")
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})
    url, arn = queue(aws, "work", VisibilityTimeout="0", RedrivePolicy=redrive)
    for body in ("good-1", "bad", "good-2"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    seen: list[list[str]] = []

    def handler(event: dict[str, Any], context: Any) -> Any:
        seen.append([r["body"] for r in event["Records"]])
        bad = [r["messageId"] for r in event["Records"] if r["body"] == "bad"]
        return {"batchItemFailures": [{"itemIdentifier": m} for m in bad]}

    source = QueueSource("work", handler, sqs, url, arn, 10, 0, CONSOLE)
    for _ in range(4):
        source.poll()
    assert sorted(seen[0]) == ["bad", "good-1", "good-2"]
    assert all(batch == ["bad"] for batch in seen[1:])  # only the failure came back
    moved = sqs.receive_message(QueueUrl=dlq_url).get("Messages", [])
    assert [m["Body"] for m in moved] == ["bad"]  # after maxReceiveCount receives
    assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []


def test_sqs_handler_crash_keeps_every_message(aws: Any) -> None:
    sqs = aws.client("sqs")
    url, arn = queue(aws, "crashy", VisibilityTimeout="0")
    sqs.send_message(QueueUrl=url, MessageBody="x")

    def crash(event: dict[str, Any], context: Any) -> Any:
        raise RuntimeError("out of memory")

    QueueSource("crashy", crash, sqs, url, arn, 10, 0, CONSOLE).poll()
    assert len(sqs.receive_message(QueueUrl=url).get("Messages", [])) == 1


def test_on_cw_event_async_retries_then_dead_letter_queue(aws: Any) -> None:
    sqs = aws.client("sqs")
    dlq_url, _ = queue(aws, "events-dlq")
    inbox_url, _ = queue(aws, "bus-inbox")
    attempts: list[str] = []

    def always_fails(event: dict[str, Any], context: Any) -> Any:
        attempts.append(event["detail-type"])
        raise RuntimeError("SES is down")

    source = BusSource("notify_guest", always_fails, sqs, inbox_url, 2, dlq_url, CONSOLE,
                       retry_delays=(0, 0))  # fmt: skip
    event = {"detail-type": "ReservationAccepted", "source": "reservations", "detail": {}}
    sqs.send_message(QueueUrl=inbox_url, MessageBody=json.dumps(event))
    assert source.poll() is True
    assert attempts == ["ReservationAccepted"] * 3  # the invocation and 2 retries
    [dead] = sqs.receive_message(QueueUrl=dlq_url, MessageAttributeNames=["All"])["Messages"]
    assert json.loads(dead["Body"])["detail-type"] == "ReservationAccepted"
    assert "SES is down" in dead["MessageAttributes"]["ErrorMessage"]["StringValue"]
    assert json.loads(dead["Body"])["account"]  # shaped as EventBridge delivers it


def test_on_cw_event_that_recovers_on_a_retry_never_reaches_the_dlq(aws: Any) -> None:
    sqs = aws.client("sqs")
    dlq_url, _ = queue(aws, "events-dlq")
    calls: list[int] = []

    def flaky(event: dict[str, Any], context: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("throttled")

    source = BusSource("h", flaky, sqs, "unused", 2, dlq_url, CONSOLE, retry_delays=(0,))
    assert source.invoke_async({"detail-type": "ReservationDeclined", "detail": {}}) is True
    assert len(calls) == 2 and sqs.receive_message(QueueUrl=dlq_url).get("Messages", []) == []


def test_without_an_on_failure_destination_the_batch_is_dropped_and_said(
    aws: Any, table: Any
) -> None:
    dynamodb, arn = table
    put(dynamodb, "a", "reservation")
    out = io.StringIO()
    handler = Recorder(fail=True)
    source = StreamSource(
        "handler", handler, settings(maximum_retry_attempts=0), aws.client("dynamodbstreams"),
        arn, None, Console(out), retry_delay=lambda attempt: None,
    )  # fmt: skip
    source.start_position()
    drain(source)
    assert handler.batches == [["a"]]
    assert "handler dropped 1 records (RetryAttemptsExhausted)" in out.getvalue()
