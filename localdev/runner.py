"""Runs every event handler registered on the Chalice app the way Lambda's event sources would.

`chalice local` serves HTTP routes only. This discovers `app.event_sources` and feeds each
handler Lambda-shaped events from the emulator, honouring the settings of its mapping (from the
decorator, completed by the app's binding (`localdev.binding`) for what decorators cannot
express):

- DynamoDB streams: starting position, batch size and window, filter criteria, maximum record
  age, retries, bisect on error, partial batch responses (resume at the lowest failed sequence
  number), on-failure destination.
- SQS: batch size and window, partial batch responses (delete only the successes), the queue's
  visibility timeout and its redrive policy (the emulator moves messages to the DLQ).
- on_cw_event: each rule delivers to an internal queue (a rule whose target is a Lambda ARN
  makes the emulator's PutEvents fail), then Lambda's asynchronous invocation: retries, then
  the dead-letter queue.
- schedule: the handler is invoked with a scheduled rule's event every period (the first a
  period after start, as a new rule's), asynchronously (a failed run is retried by the next).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from localdev.aws_emulation import ACCOUNT
from localdev.console import Console
from localdev.lambda_shapes import (
    LocalLambdaContext,
    eventbridge_event,
    scheduled_event,
    sqs_event,
    stream_record_as_lambda,
)
from localdev.patterns import matches

Invoke = Callable[[list[dict[str, Any]]], Any]
# Sends Lambda's on-failure record of a stream batch (and, for an S3 destination, its records).
OnFailure = Callable[[dict[str, Any], list[dict[str, Any]]], None]


@dataclass(frozen=True)
class StreamSettings:
    batch_size: int
    batching_window_seconds: float
    starting_position: str
    maximum_retry_attempts: int  # -1: until the record expires
    bisect_on_error: bool
    maximum_record_age_seconds: int  # -1: no limit
    filter_patterns: tuple[dict[str, Any], ...]
    reports_batch_item_failures: bool
    on_failure_destination: str | None = None  # the stack output naming it (queue or bucket)


@dataclass(frozen=True)
class BusDelivery:
    """Lambda's asynchronous invocation of an on_cw_event handler: retries, then the DLQ."""

    maximum_retry_attempts: int = 2
    dead_letter_queue: str = "EventsDeadLetterQueue"  # a stack output's logical name


class StreamBatches:
    """Lambda's handling of one stream batch: retries, bisect, partial batch responses, and
    the on-failure destination once the retries are spent. Knows nothing of the emulator."""

    def __init__(
        self,
        settings: StreamSettings,
        invoke: Invoke,
        on_failure: Callable[[list[dict[str, Any]], str, int], None],
        console: Console,
        name: str,
        retry_delay: Callable[[int], None] = lambda attempt: None,
    ) -> None:
        self._settings = settings
        self._invoke = invoke
        self._on_failure = on_failure
        self._console = console
        self._name = name
        self._retry_delay = retry_delay

    def process(self, batch: list[dict[str, Any]]) -> None:
        """Handle `batch` until every record is done: processed or sent to the destination."""
        work: list[tuple[list[dict[str, Any]], int]] = [(batch, 0)]
        while work:
            records, retries = work.pop(0)
            if retries:
                self._retry_delay(retries)
            try:
                response = self._invoke(records)
            except Exception as error:  # the function failed: the whole batch failed
                self._console.handler(self._name, "failed", f"{len(records)} records: {error!r}")
                work[:0] = self._after_error(records, retries)
                continue
            rest = self._unprocessed(records, response)
            if not rest:
                self._console.handler(self._name, "ok", f"{len(records)} records")
                continue
            self._console.handler(
                self._name, "partial", f"resume at {rest[0]['dynamodb']['SequenceNumber']}"
            )
            work[:0] = self._after_error(rest, retries, bisect=False)

    def _after_error(
        self, records: list[dict[str, Any]], retries: int, bisect: bool = True
    ) -> list[tuple[list[dict[str, Any]], int]]:
        limit = self._settings.maximum_retry_attempts
        if limit != -1 and retries >= limit:
            self._on_failure(records, "RetryAttemptsExhausted", retries + 1)
            return []
        if bisect and self._settings.bisect_on_error and len(records) > 1:
            half = len(records) // 2
            return [(records[:half], retries + 1), (records[half:], retries + 1)]
        return [(records, retries + 1)]

    def _unprocessed(self, records: list[dict[str, Any]], response: Any) -> list[dict[str, Any]]:
        """With ReportBatchItemFailures, the records from the lowest reported one on."""
        if not self._settings.reports_batch_item_failures or not isinstance(response, dict):
            return []
        failures = response.get("batchItemFailures") or []
        if not failures:
            return []
        numbers = [r["dynamodb"]["SequenceNumber"] for r in records]
        reported = [f.get("itemIdentifier") for f in failures]
        if any(n not in numbers for n in reported):
            return records  # an unknown identifier fails the whole batch, as in Lambda
        lowest = min(reported, key=int)
        return records[numbers.index(lowest) :]


class StreamSource:
    """Polls a table's stream and feeds one handler."""

    def __init__(
        self,
        name: str,
        handler: Callable[..., Any],
        settings: StreamSettings,
        streams: Any,
        stream_arn: str,
        on_failure: OnFailure | None,
        console: Console,
        clock: Callable[[], float] = time.time,
        retry_delay: Callable[[int], None] = lambda n: time.sleep(min(0.2 * 2**n, 3.0)),
    ) -> None:
        self.name = name
        self._handler = handler
        self._settings = settings
        self._clock = clock
        self._streams = streams
        self._arn = stream_arn
        self._send_failure = on_failure
        self._console = console
        self._batches = StreamBatches(
            settings, self._invoke, self._to_destination, console, name, retry_delay
        )
        self._iterators: dict[str, str | None] = {}
        self._buffer: list[dict[str, Any]] = []
        self._first_buffered = 0.0

    def start_position(self) -> None:
        description = self._streams.describe_stream(StreamArn=self._arn)["StreamDescription"]
        for shard in description["Shards"]:
            self._iterators[shard["ShardId"]] = self._streams.get_shard_iterator(
                StreamArn=self._arn,
                ShardId=shard["ShardId"],
                ShardIteratorType=self._settings.starting_position,
            )["ShardIterator"]

    def poll(self) -> bool:
        """Read what is new; invoke when a batch is full or its window has passed."""
        for shard, iterator in list(self._iterators.items()):
            if iterator is None:
                continue
            response = self._streams.get_records(ShardIterator=iterator, Limit=1000)
            self._iterators[shard] = response.get("NextShardIterator")
            filtered = 0
            for raw in response["Records"]:
                record = stream_record_as_lambda(raw, self._arn)
                if not self._passes_filter(record):
                    filtered += 1
                    continue
                self._console.stream_record(record)
                if not self._buffer:
                    self._first_buffered = time.monotonic()
                self._buffer.append(record)
            if filtered:
                self._console.filtered(filtered)
        return self._flush()

    def _passes_filter(self, record: dict[str, Any]) -> bool:
        patterns = self._settings.filter_patterns
        return not patterns or any(matches(p, record) for p in patterns)

    def _flush(self, force: bool = False) -> bool:
        waited = time.monotonic() - self._first_buffered
        ready = len(self._buffer) >= self._settings.batch_size
        if not self._buffer or not (
            ready or force or waited >= self._settings.batching_window_seconds
        ):
            return False
        batch = self._buffer[: self._settings.batch_size]
        self._buffer = self._buffer[self._settings.batch_size :]
        self._first_buffered = time.monotonic()
        batch = self._drop_expired(batch)
        if batch:
            self._batches.process(batch)
        return True

    def _drop_expired(self, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        limit = self._settings.maximum_record_age_seconds
        if limit == -1:
            return batch
        now = self._clock()
        expired = [r for r in batch if now - r["dynamodb"]["ApproximateCreationDateTime"] > limit]
        if expired:
            self._to_destination(expired, "RecordAgeExceeded", 0)
        return [r for r in batch if r not in expired]

    def _invoke(self, records: list[dict[str, Any]]) -> Any:
        return self._handler({"Records": records}, LocalLambdaContext(self.name))

    def _to_destination(self, records: list[dict[str, Any]], condition: str, attempts: int) -> None:
        """Lambda's on-failure record for a stream batch (the batch's metadata; an S3
        destination gets the records too); without a destination, Lambda drops the batch."""
        if self._send_failure is None:
            self._console.handler(self.name, "dropped", f"{len(records)} records ({condition})")
            return
        first, last = records[0]["dynamodb"], records[-1]["dynamodb"]
        self._send_failure(
            {
                "requestContext": {
                    "requestId": str(uuid.uuid4()),
                    "functionArn": f"arn:aws:lambda:local:{ACCOUNT}:function:{self.name}",
                    "condition": condition,
                    "approximateInvokeCount": attempts,
                },
                "responseContext": {
                    "statusCode": 200,
                    "executedVersion": "$LATEST",
                    "functionError": "Unhandled",
                },
                "version": "1.0",
                "timestamp": datetime.now(UTC).isoformat(),
                "DDBStreamBatchInfo": {
                    "shardId": next(iter(self._iterators), ""),
                    "startSequenceNumber": first["SequenceNumber"],
                    "endSequenceNumber": last["SequenceNumber"],
                    "approximateArrivalOfFirstRecord": first["ApproximateCreationDateTime"],
                    "approximateArrivalOfLastRecord": last["ApproximateCreationDateTime"],
                    "batchSize": len(records),
                    "streamArn": self._arn,
                },
            },
            records,
        )
        self._console.handler(self.name, "to DLQ", f"{len(records)} records ({condition})")


class QueueSource:
    """Polls an SQS queue and feeds one handler; deletes only what succeeded.

    One invocation at a time: a Lambda execution environment never runs two at once, and the
    handlers here share one process (its module state, Powertools' batch processor), so a
    mapping's maximum concurrency is not emulated. With `wait_seconds`, each receive
    long-polls, as Lambda's pollers do: a message is picked up the moment it arrives, and an
    idle queue costs one request per `wait_seconds`."""

    def __init__(
        self,
        name: str,
        handler: Callable[..., Any],
        sqs: Any,
        queue_url: str,
        queue_arn: str,
        batch_size: int,
        batching_window_seconds: float,
        console: Console,
        wait_seconds: int = 0,
    ) -> None:
        self.name = name
        self.long_polls = wait_seconds > 0
        self._handler = handler
        self._sqs = sqs
        self._url = queue_url
        self._arn = queue_arn
        self._batch_size = batch_size
        self._window = batching_window_seconds
        self._wait = wait_seconds
        self._console = console

    def poll(self) -> bool:
        messages = self._receive()
        if not messages:
            return False
        failed = self._invoke(messages)
        done = [message for message in messages if message["MessageId"] not in failed]
        delete_messages(self._sqs, self._url, done, self._console, self.name)
        return True

    def _receive(self) -> list[dict[str, Any]]:
        """Up to a batch, gathering for the batching window once a first message is in."""
        messages: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + self._window
        while len(messages) < self._batch_size:
            batch = self._sqs.receive_message(
                QueueUrl=self._url,
                MaxNumberOfMessages=min(10, self._batch_size - len(messages)),
                AttributeNames=["All"],
                WaitTimeSeconds=0 if messages else self._wait,
            ).get("Messages", [])
            for message in batch:
                messages.setdefault(message["MessageId"], message)
            if not messages or time.monotonic() >= deadline:
                break
            if not batch:
                time.sleep(0.05)
        return list(messages.values())

    def _invoke(self, messages: list[dict[str, Any]]) -> set[str]:
        """The ids of the messages that failed."""
        everything = {m["MessageId"] for m in messages}
        try:
            response = self._handler(sqs_event(messages, self._arn), LocalLambdaContext(self.name))
        except Exception as error:
            self._console.handler(self.name, "failed", f"{len(messages)} messages: {error!r}")
            return everything
        failures = {f["itemIdentifier"] for f in (response or {}).get("batchItemFailures", [])}
        if failures - everything:
            self._console.handler(self.name, "failed", "unknown itemIdentifier: whole batch")
            return everything
        outcome = "ok" if not failures else "partial"
        detail = f"{len(messages) - len(failures)} of {len(messages)} messages"
        self._console.handler(self.name, outcome, detail)
        return failures


def delete_messages(
    sqs: Any, queue_url: str, messages: list[dict[str, Any]], console: Console, name: str
) -> None:
    """Delete handled messages ten to a call, as Lambda's pollers do (DeleteMessageBatch). A
    message that could not be deleted comes back after its visibility timeout: said, not
    raised, as the consumers are idempotent."""
    for start in range(0, len(messages), 10):
        chunk = messages[start : start + 10]
        entries = [
            {"Id": str(i), "ReceiptHandle": message["ReceiptHandle"]}
            for i, message in enumerate(chunk)
        ]
        failed = sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries).get("Failed", [])
        if failed:
            console.handler(name, "failed", f"could not delete {len(failed)} messages: redelivery")


class BusSource:
    """An on_cw_event handler: its rule delivers to an internal queue; each event is invoked
    asynchronously, with Lambda's retries, then the dead-letter queue."""

    def __init__(
        self,
        name: str,
        handler: Callable[..., Any],
        sqs: Any,
        queue_url: str,
        maximum_retry_attempts: int,
        dead_letter_url: str,
        console: Console,
        retry_delays: Sequence[float] = (0.5, 1.0),
        wait_seconds: int = 0,
    ) -> None:
        self.name = name
        self.long_polls = wait_seconds > 0
        self._wait = wait_seconds
        self._handler = handler
        self._sqs = sqs
        self._url = queue_url
        self._retries = maximum_retry_attempts
        self._dlq = dead_letter_url
        self._console = console
        self._delays = retry_delays

    def poll(self) -> bool:
        messages = self._sqs.receive_message(
            QueueUrl=self._url, MaxNumberOfMessages=10, WaitTimeSeconds=self._wait
        ).get("Messages", [])
        for message in messages:
            self.invoke_async(eventbridge_event(json.loads(message["Body"]), ACCOUNT))
        delete_messages(self._sqs, self._url, messages, self._console, self.name)
        return bool(messages)

    def invoke_async(self, event: dict[str, Any]) -> bool:
        """Run once plus up to `maximum_retry_attempts` retries; then the DLQ."""
        error: Exception | None = None
        for attempt in range(self._retries + 1):
            if attempt:
                time.sleep(self._delays[min(attempt - 1, len(self._delays) - 1)])
            try:
                self._handler(event, LocalLambdaContext(self.name))
            except Exception as failure:
                error = failure
                outcome = "retried" if attempt < self._retries else "failed"
                self._console.handler(self.name, outcome, f"{event['detail-type']}: {failure!r}")
                continue
            self._console.bus_event(self.name, "ok", event)
            return True
        self._sqs.send_message(
            QueueUrl=self._dlq,
            MessageBody=json.dumps(event),
            MessageAttributes={
                "ErrorCode": {"DataType": "String", "StringValue": "Unhandled"},
                "ErrorMessage": {"DataType": "String", "StringValue": repr(error)[:256]},
            },
        )
        self._console.bus_event(self.name, "to DLQ", event)
        return False


class ScheduledSource:
    """A schedule handler (`@app.schedule`): invoked every `period_seconds` with the event a
    scheduled rule sends. A run that raises is reported; the next period runs again."""

    def __init__(
        self,
        name: str,
        handler: Callable[..., Any],
        period_seconds: float,
        console: Console,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._handler = handler
        self._period = period_seconds
        self._console = console
        self._clock = clock
        self._rule_arn = f"arn:aws:events:local:{ACCOUNT}:rule/local-{name}"
        self._next = clock() + period_seconds

    def poll(self) -> bool:
        if self._clock() < self._next:
            return False
        self._next += self._period
        event = scheduled_event(self._rule_arn, ACCOUNT, datetime.now(UTC))
        try:
            result = self._handler(event, LocalLambdaContext(self.name))
        except Exception as failure:
            self._console.handler(self.name, "failed", f"scheduled run: {failure!r}")
            return True
        if isinstance(result, dict) and any(result.values()):  # quiet when it did nothing
            self._console.handler(self.name, "ok", f"scheduled run: {json.dumps(result)}")
        return True


def rate_seconds(expression: Any) -> float:
    """The period of a Chalice `Rate` or of its text, "rate(5 minutes)"."""
    text = expression if isinstance(expression, str) else expression.to_string()
    value, unit = text.removeprefix("rate(").removesuffix(")").split()
    seconds = {"minute": 60, "hour": 3600, "day": 86400}[unit.rstrip("s")]
    return int(value) * seconds


class Runner:
    """Polls every source on its own thread until stopped, resting `idle_sleep` after an empty
    poll unless the poll itself waited (`source.long_polls`)."""

    def __init__(self, sources: list[Any], console: Console, idle_sleep: float = 0.1) -> None:
        self._sources = sources
        self._console = console
        self._idle = idle_sleep
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for source in self._sources:
            thread = threading.Thread(
                target=self._loop, args=(source,), name=source.name, daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def _loop(self, source: Any) -> None:
        while not self._stop.is_set():
            try:
                busy = source.poll()
            except Exception as error:  # the emulator going away at shutdown, mostly
                if self._stop.is_set():
                    return
                self._console.line("runner", f"{source.name}: polling failed: {error!r}")
                busy = False
            if not busy and not getattr(source, "long_polls", False):
                self._stop.wait(self._idle)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
