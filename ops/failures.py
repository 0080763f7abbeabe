"""What waits in a stage's failure destinations, and bringing it back.

- the stream mapping's on-failure bucket: failed batches with their records (Lambda's S3
  destination); `recover` publishes them through the stream handler's own relay;
- the stream-failure queue: batch-info records (sequence numbers only: the records must be read
  back from the stream within its 24 h retention) and records the handler could not read;
- the staff-notification DLQ and the events DLQ: `redrive` sends them back.

Every path re-publishes or re-delivers with the same deterministic event ids, so consumers that
already did their work skip it: running any command twice, or next to live traffic, sends no
email twice. A message or object is deleted only after everything in it went out.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from infra.names import stack_name
from ops.stage import Stage

STREAM_RETENTION = timedelta(hours=24)
_PEEK_ROUNDS = 10


@dataclass
class Waiting:
    """One failure destination: how many wait there, since when, and what is urgent."""

    name: str
    count: int
    oldest: datetime | None = None
    notes: list[str] = field(default_factory=list)


# -- reading -------------------------------------------------------------------------------


def failed_batches(stage: Stage) -> Iterator[tuple[str, datetime]]:
    """The on-failure bucket's objects: (key, when written), oldest first."""
    s3 = stage.client("s3")
    found: list[tuple[str, datetime]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=stage.outputs["StreamFailureBucketName"]
    ):
        found += [(o["Key"], o["LastModified"]) for o in page.get("Contents", [])]
    yield from sorted(found, key=lambda item: item[1])


def peek(stage: Stage, queue_url: str) -> list[dict[str, Any]]:
    """Messages of a queue without taking them (visibility 0), deduplicated, up to ~100."""
    return list(_receive_each(stage.client("sqs"), queue_url, 0, rounds=_PEEK_ROUNDS))


def queue_depth(stage: Stage, queue_url: str) -> int:
    attributes = stage.client("sqs").get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(v) for v in attributes.values())


def sent_at(message: dict[str, Any]) -> datetime:
    return datetime.fromtimestamp(int(message["Attributes"]["SentTimestamp"]) / 1000, UTC)


def arrival(value: Any) -> datetime:
    """A batch-info time: epoch seconds, or ISO 8601 as AWS writes it."""
    if isinstance(value, int | float) or str(value).replace(".", "", 1).isdigit():
        return datetime.fromtimestamp(float(value), UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def status(stage: Stage, now: datetime) -> list[Waiting]:
    batches = list(failed_batches(stage))
    bucket = Waiting("stream on-failure bucket", len(batches), batches[0][1] if batches else None)
    if batches:
        bucket.notes.append("records kept in the bucket (expired by its 14-day lifecycle)")
    found = [bucket]
    failure_url = stage.queue_url("StreamFailureQueueArn")
    messages = peek(stage, failure_url)
    queue = Waiting(
        "stream failure queue",
        queue_depth(stage, failure_url),
        min((sent_at(m) for m in messages), default=None),
    )
    infos = [b["DDBStreamBatchInfo"] for b in map(_json, messages) if "DDBStreamBatchInfo" in b]
    if infos:
        first = min(arrival(i["approximateArrivalOfFirstRecord"]) for i in infos)
        left = first + STREAM_RETENTION - now
        queue.notes.append(
            f"{len(infos)} batch-info record(s): their records leave the stream in "
            f"{_duration(left)} (at {first + STREAM_RETENTION:%Y-%m-%d %H:%M} UTC)"
            if left > timedelta(0)
            else f"{len(infos)} batch-info record(s) older than the stream's 24 h: records lost"
        )
    poison = sum(1 for m in messages if "reason" in _json(m))
    if poison:
        queue.notes.append(f"{poison} record(s) the handler could not read (see `recover`)")
    found.append(queue)
    for name, output in (
        ("staff-notification DLQ", "StaffNotificationDeadLetterQueueArn"),
        ("events DLQ", "EventsDeadLetterQueueArn"),
    ):
        url = stage.queue_url(output)
        oldest = min((sent_at(m) for m in peek(stage, url)), default=None)
        found.append(Waiting(name, queue_depth(stage, url), oldest))
    return found


def alarms_firing(stage: Stage) -> list[str] | None:
    """Names of the stage's alarms in ALARM; None where there is no CloudWatch to ask."""
    import botocore.exceptions

    try:
        alarms = stage.client("cloudwatch").describe_alarms(StateValue="ALARM")["MetricAlarms"]
    except botocore.exceptions.ClientError:
        return None
    prefix = stack_name(stage.name)
    return [a["AlarmName"] for a in alarms if a["AlarmName"].startswith(prefix)]


# -- recover -------------------------------------------------------------------------------


@dataclass
class Outcome:
    recovered: int = 0
    kept: int = 0
    lost: int = 0
    discarded: int = 0


class Recovery:
    """Publishes every failed batch again through `relay()` (the stream handler's own)."""

    def __init__(
        self,
        stage: Stage,
        relay: Callable[[], Any],
        out: TextIO,
        *,
        dry_run: bool,
        discard_lost: bool,
    ) -> None:
        self._stage, self._relay, self._out = stage, relay, out
        self._dry_run, self._discard_lost = dry_run, discard_lost
        self.outcome = Outcome()

    def run(self) -> Outcome:
        self._bucket()
        self._queue()
        _count(self._stage, "BatchesRecovered", self.outcome.recovered)
        return self.outcome

    def _bucket(self) -> None:
        s3 = self._stage.client("s3")
        bucket = self._stage.outputs["StreamFailureBucketName"]
        batches = list(failed_batches(self._stage))
        for number, (key, _) in enumerate(batches, 1):
            body = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
            label = f"failed batch {number}/{len(batches)} ({_range(body)})"
            if self._recovered(label, body):
                s3.delete_object(Bucket=bucket, Key=key)

    def _queue(self) -> None:
        sqs = self._stage.client("sqs")
        url = self._stage.queue_url("StreamFailureQueueArn")
        kept: list[str] = []
        for message in _take_all(sqs, url):
            body = _json(message)
            if "DDBStreamBatchInfo" in body:
                done = self._recovered(f"batch-info record ({_range(body)})", body)
            else:
                reason = body.get("reason", "not a record this command knows")
                self._out.write(
                    f"  kept queue message {message['MessageId'][:8]}: {reason}; "
                    "fix the item, then delete the message\n"
                )
                self.outcome.kept += 1
                done = False
            if done:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            else:
                kept.append(message["ReceiptHandle"])
        for handle in kept:  # visible again for `status` and the next run
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)

    def _recovered(self, label: str, body: dict[str, Any]) -> bool:
        """Publish one failed batch; True when its record (object or message) can go."""
        records = _records_of(body)
        if records is None:  # a batch-info record: the records are in the stream, or lost
            records, lost = read_from_stream(self._stage, body["DDBStreamBatchInfo"])
            if lost:
                return self._lost(label, body, lost)
        if self._dry_run:
            self._out.write(f"  would publish {label}: {len(records)} record(s)\n")
            return False
        failed = self._relay().handle(records).get("batchItemFailures", [])
        if failed:
            self._out.write(
                f"  kept {label}: publishing still fails from sequence number "
                f"{failed[0]['itemIdentifier']} (is the cause fixed?)\n"
            )
            self.outcome.kept += 1
            return False
        self._out.write(f"  recovered {label}: {len(records)} record(s) published\n")
        self.outcome.recovered += 1
        return True

    def _lost(self, label: str, body: dict[str, Any], why: str) -> bool:
        """Report a batch whose records are gone; True when it is to be discarded."""
        info = body["DDBStreamBatchInfo"]
        start = arrival(info["approximateArrivalOfFirstRecord"])
        end = arrival(info["approximateArrivalOfLastRecord"])
        second = timedelta(seconds=1)
        ids = reservations_changed_between(self._stage, start - second, end + second)
        self._out.write(
            f"  LOST {label}: {why}; written {start:%Y-%m-%d %H:%M:%S}–{end:%H:%M:%S} UTC; "
            f"reservations changed then: {', '.join(ids) or 'none found'}\n"
        )
        self.outcome.lost += 1
        if self._discard_lost and not self._dry_run:
            self.outcome.discarded += 1
            return True
        return False


def read_from_stream(stage: Stage, info: dict[str, Any]) -> tuple[list[dict[str, Any]], str | None]:
    """The batch's records from the stream, shaped as Lambda delivers them; or why not."""
    import botocore.exceptions

    from localdev.lambda_shapes import stream_record_as_lambda

    streams = stage.client("dynamodbstreams")
    start, end = int(info["startSequenceNumber"]), int(info["endSequenceNumber"])
    try:
        iterator = streams.get_shard_iterator(
            StreamArn=info["streamArn"], ShardId=info["shardId"],
            ShardIteratorType="AT_SEQUENCE_NUMBER", SequenceNumber=str(start),
        )["ShardIterator"]  # fmt: skip
    except botocore.exceptions.ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in {"TrimmedDataAccessException", "ResourceNotFoundException"}:
            return [], "its records have left the stream (24 h retention)"
        raise
    records: list[dict[str, Any]] = []
    empty_reads = 0
    while iterator and empty_reads < 5:
        response = streams.get_records(ShardIterator=iterator, Limit=1000)
        iterator = response.get("NextShardIterator")
        page = [r for r in response["Records"] if int(r["dynamodb"]["SequenceNumber"]) <= end]
        records += [stream_record_as_lambda(r, info["streamArn"]) for r in page]
        if len(page) < len(response["Records"]):
            break
        empty_reads = 0 if response["Records"] else empty_reads + 1
    if not records or int(records[0]["dynamodb"]["SequenceNumber"]) != start:
        return [], "its first records have left the stream (24 h retention)"
    return records, None


def reservations_changed_between(stage: Stage, start: datetime, end: datetime) -> list[str]:
    from chalicelib.adapters.layout import ENTITY, RESERVATION

    dynamodb = stage.client("dynamodb")
    found: list[str] = []
    for page in dynamodb.get_paginator("scan").paginate(
        TableName=stage.outputs["TableName"],
        FilterExpression="#entity = :reservation AND updated_at BETWEEN :start AND :end",
        ExpressionAttributeNames={"#entity": ENTITY},
        ExpressionAttributeValues={
            ":reservation": {"S": RESERVATION},
            ":start": {"S": start.isoformat()},
            ":end": {"S": end.isoformat()},
        },
        ProjectionExpression="id",
    ):
        found += [item["id"]["S"] for item in page.get("Items", [])]
    return sorted(found)


# -- redrive -------------------------------------------------------------------------------


def redrive_staff_notifications(stage: Stage, out: TextIO, *, dry_run: bool) -> int:
    """The staff-notification DLQ back to its queue: SQS's own message move task where the
    service has it, else a receive / send / delete loop (a message is deleted only once sent)."""
    import botocore.exceptions

    sqs = stage.client("sqs")
    source = stage.queue_url("StaffNotificationDeadLetterQueueArn")
    count = queue_depth(stage, source)
    if dry_run:
        out.write(f"  staff-notification DLQ: {count} message(s) would go back to the queue\n")
        return 0
    if not count:
        out.write("  staff-notification DLQ: empty\n")
        return 0
    try:
        sqs.start_message_move_task(
            SourceArn=stage.outputs["StaffNotificationDeadLetterQueueArn"],
            DestinationArn=stage.outputs["StaffNotificationQueueArn"],
        )
        out.write(f"  staff-notification DLQ: a message move task moves {count} message(s)\n")
        _count(stage, "MessagesRedriven", count)
        return count
    except NotImplementedError:  # the emulator in-process
        pass
    except botocore.exceptions.ClientError as error:
        if not _unsupported(error):
            raise
    target = stage.queue_url("StaffNotificationQueueArn")
    moved = 0
    for message in _take_all(sqs, source):
        sqs.send_message(
            QueueUrl=target,
            MessageBody=message["Body"],
            MessageAttributes=_correlation_attribute(_json(message)),
        )
        sqs.delete_message(QueueUrl=source, ReceiptHandle=message["ReceiptHandle"])
        moved += 1
        if moved % 50 == 0:
            out.write(f"    {moved}/{count}…\n")
    out.write(f"  staff-notification DLQ: {moved} message(s) sent back to the queue\n")
    _count(stage, "MessagesRedriven", moved)
    return moved


def redrive_events(stage: Stage, out: TextIO, *, dry_run: bool) -> int:
    """The events DLQ back onto the bus, each event with its original detail (and event id)."""
    sqs, events = stage.client("sqs"), stage.client("events")
    url = stage.queue_url("EventsDeadLetterQueueArn")
    if dry_run:
        out.write(f"  events DLQ: {queue_depth(stage, url)} event(s) would go back to the bus\n")
        return 0
    sent = kept = 0
    for message in _take_all(sqs, url):
        event = _json(message)
        if not {"source", "detail-type", "detail"} <= set(event):
            kept += 1
            continue
        entry = {
            "Source": event["source"],
            "DetailType": event["detail-type"],
            "Detail": json.dumps(event["detail"]),
            "EventBusName": stage.outputs["EventBusName"],
        }
        [result] = events.put_events(Entries=[entry])["Entries"]
        if result.get("ErrorCode"):
            kept += 1
            continue
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        sent += 1
    note = f"; {kept} kept (not an event, or the bus refused it)" if kept else ""
    out.write(f"  events DLQ: {sent} event(s) sent back to the bus{note}\n")
    _count(stage, "MessagesRedriven", sent)
    return sent


def _count(stage: Stage, name: str, value: int) -> None:
    """A repair on the dashboard (`Reservations` namespace, service "ops")."""
    if value:
        stage.client("cloudwatch").put_metric_data(
            Namespace="Reservations",
            MetricData=[{"MetricName": name, "Value": value, "Unit": "Count",
                         "Dimensions": [{"Name": "service", "Value": "ops"}]}],
        )  # fmt: skip


# -- helpers -------------------------------------------------------------------------------


def _take_all(sqs: Any, url: str) -> Iterator[dict[str, Any]]:
    """Every message of a queue, each received once and kept invisible while this runs."""
    return _receive_each(sqs, url, 300)


def _receive_each(
    sqs: Any, url: str, visibility: int, rounds: int | None = None
) -> Iterator[dict[str, Any]]:
    """A queue's messages, each once, until a receive brings nothing new (or after `rounds`
    receives); `visibility` 0 leaves them where they are for others."""
    seen: set[str] = set()
    received = 0
    while rounds is None or received < rounds:
        received += 1
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=visibility,
            AttributeNames=["SentTimestamp"], WaitTimeSeconds=0,
        ).get("Messages", [])  # fmt: skip
        fresh = [m for m in messages if m["MessageId"] not in seen]
        if not fresh:
            return
        for message in fresh:
            seen.add(message["MessageId"])
            yield message


def _correlation_attribute(event: dict[str, Any]) -> dict[str, Any]:
    """The event's correlation id as an SQS message attribute (none when it has none)."""
    detail = event.get("detail")
    sent = detail.get("correlation_id") if isinstance(detail, dict) else None
    if not isinstance(sent, str) or not sent:
        return {}
    return {"correlation_id": {"DataType": "String", "StringValue": sent}}


def _unsupported(error: Any) -> bool:
    """The service does not have the action (the emulator in server mode)."""
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    code = error.response.get("Error", {}).get("Code", "")
    return status >= 500 or code in {"InvalidAction", "UnknownOperationException"}


def _records_of(body: dict[str, Any]) -> list[dict[str, Any]] | None:
    payload = body.get("payload")
    if payload is None:
        return None
    event = json.loads(payload) if isinstance(payload, str) else payload
    return list(event["Records"])


def _range(body: dict[str, Any]) -> str:
    info = body.get("DDBStreamBatchInfo", {})
    return f"sequence numbers {info.get('startSequenceNumber')}..{info.get('endSequenceNumber')}"


def _json(message: dict[str, Any]) -> dict[str, Any]:
    try:
        value = json.loads(message["Body"])
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"
