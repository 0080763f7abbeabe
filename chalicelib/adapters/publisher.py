"""Publishes business events to EventBridge, and relays a stream batch into it.

PutEvents takes at most 10 entries and may fail some of them in a 200 response; only those are
sent again, with jittered backoff. One call never carries two events of the same reservation,
so a partial failure can never let a later event of a reservation overtake an earlier one.

The relay is the one serial path of a shard, so it does per event only what only it can: a
published event's timeline step is written by the daily-totals consumer, which sees every event
once (`services.notifications.DailySummaries`); the relay writes the rare failed attempts.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamodb.table import utc_text
from chalicelib.adapters.stream import UnreadableRecord, event_from_record
from chalicelib.domain.events import SOURCE, BusinessEvent, Event, ordering_key
from chalicelib.services.ports import Metrics, NoMetrics, TimelineStep, TimelineStore

MAX_ENTRIES_PER_CALL = 10
_RETRYABLE_CALL_ERRORS = {"ThrottlingException", "InternalException", "ServiceUnavailable"}


class EventPublisher:
    def __init__(
        self,
        client: Any,
        bus_name: str,
        *,
        attempts: int = 4,
        base_delay: float = 0.05,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._bus = bus_name
        self._attempts = attempts
        self._base_delay = base_delay
        self._sleep = sleep
        # The last call's error code for each event it left failed (its timeline step says).
        self.last_errors: dict[str, str] = {}

    def publish_call(self, events: Sequence[Event]) -> list[Event]:
        """Publish up to 10 events; returns those still failed after the retries."""
        assert len(events) <= MAX_ENTRIES_PER_CALL
        pending = list(events)
        errors: dict[str, str] = {}
        for attempt in range(self._attempts):
            if attempt:
                self._sleep(random.uniform(0, self._base_delay * 2**attempt))
            try:
                response = self._client.put_events(Entries=[self._entry(e) for e in pending])
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code")
                if code not in _RETRYABLE_CALL_ERRORS:
                    raise
                errors = {e.event_id: str(code) for e in pending}
                continue
            if response.get("FailedEntryCount") == 0:  # as most calls: no entry to read
                self.last_errors = {}
                return []
            results = response.get("Entries", [])
            failed = [(e, r["ErrorCode"]) for e, r in zip(pending, results, strict=True)
                      if r.get("ErrorCode")]  # fmt: skip
            if not failed:
                self.last_errors = {}
                return []
            pending = [e for e, _ in failed]
            errors = {e.event_id: str(code) for e, code in failed}
        self.last_errors = errors
        return pending

    def _entry(self, event: Event) -> dict[str, Any]:
        return {
            "Source": SOURCE,
            "DetailType": event.detail_type,
            # What model_dump_json() returns, without its keyword handling (once per event).
            "Detail": event.__pydantic_serializer__.to_json(event).decode(),
            "EventBusName": self._bus,
        }  # no Resources: optional, and the bus writes [] in the event it delivers


class _Pending(NamedTuple):
    sequence_number: str
    event: Event


def calls(items: Iterable[_Pending]) -> Iterator[list[_Pending]]:
    """Group in stream order: at most 10 a call, one event per reservation a call."""
    batch: list[_Pending] = []
    keys: set[str] = set()
    for item in items:
        key = ordering_key(item.event)
        if len(batch) == MAX_ENTRIES_PER_CALL or key in keys:
            yield batch
            batch, keys = [], set()
        batch.append(item)
        keys.add(key)
    if batch:
        yield batch


class StreamRelay:
    """The stream handler's work: records -> events -> bus, with a partial batch response.

    Lambda resumes a stream at the lowest sequence number reported, so the first record whose
    event could not be published is reported and nothing after it is sent (those records come
    again, and consumers drop the repeats by event id). A record that cannot be read goes to
    the stream-failure queue and the batch moves on; if even that fails, it is reported.
    """

    def __init__(
        self,
        publisher: EventPublisher,
        quarantine: Callable[[dict[str, Any], str], None],
        log: Any,
        timeline: TimelineStore | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._publisher = publisher
        self._quarantine = quarantine
        self._log = log
        self._timeline = timeline
        self._metrics = metrics or NoMetrics()

    def handle(self, records: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, str]]]:
        try:
            return self._handle(records)
        finally:
            self._metrics.flush()

    def _handle(self, records: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, str]]]:
        stop_at: list[str] = []
        published = failed_entries = 0
        # Looked up once a batch: below INFO (as in prod) the per-event lines are not built.
        log_events = self._log.isEnabledFor(logging.INFO)
        publish = self._publisher.publish_call
        try:
            # Records are read as calls fill, so a call's events are gone before the next
            # call's are made: a whole batch's, held to the end, lived through the garbage
            # collector's young passes (each one walks and promotes them).
            for call in calls(self._readable(records, stop_at)):
                events = [p.event for p in call]
                try:
                    failed = publish(events)
                except Exception as error:
                    self._record(_unpublished(events, {}, _error_name(error)))
                    raise
                if log_events:
                    self._log_call(call, failed)
                if failed:
                    published += len(call) - len(failed)
                    failed_entries += len(failed)
                    self._record(_unpublished(failed, self._publisher.last_errors, ""))
                    first = min((p for p in call if p.event in failed), key=_order)
                    return _resume_at(first.sequence_number)
                published += len(call)
        finally:
            self._metrics.count("EventsPublished", published)
            self._metrics.count("PutEventsFailedEntries", failed_entries)
        return _resume_at(stop_at[0]) if stop_at else {"batchItemFailures": []}

    def _readable(
        self, records: Sequence[dict[str, Any]], stop_at: list[str]
    ) -> Iterator[_Pending]:
        """The records' events in stream order, poison records quarantined on the way; at one
        that cannot be quarantined, its sequence number goes in `stop_at` and reading stops."""
        for record in records:
            try:
                event = event_from_record(record)
            except UnreadableRecord as error:
                if self._quarantined(record, str(error)):
                    continue
                stop_at.append(str(record["dynamodb"]["SequenceNumber"]))
                return
            if event is not None:
                yield _Pending(str(record["dynamodb"]["SequenceNumber"]), event)

    def _log_call(self, call: list[_Pending], failed: list[Event]) -> None:
        for item in call:
            self._log.info(
                "event failed" if item.event in failed else "event published",
                event_id=item.event.event_id,
                detail_type=item.event.detail_type,
                reservation_id=item.event.reservation.id
                if isinstance(item.event, BusinessEvent)
                else None,
                sequence_number=item.sequence_number,
                correlation_id=item.event.correlation_id,
            )

    def _record(self, steps: list[TimelineStep]) -> None:
        """Events that could not be published, as steps on their reservations' timelines
        (best effort: the stream retries them all the same)."""
        if self._timeline is None or not steps:
            return
        try:
            self._timeline.add_steps(steps)
        except Exception as error:
            self._log.warning("timeline steps not written", error=repr(error))

    def _quarantined(self, record: dict[str, Any], reason: str) -> bool:
        try:
            self._quarantine(record, reason)
        except Exception:
            self._log.exception("could not quarantine an unreadable stream record")
            return False
        self._log.error("unreadable stream record quarantined", reason=reason)
        self._metrics.count("RecordsQuarantined")
        return True


def _unpublished(events: list[Event], errors: dict[str, str], error: str) -> list[TimelineStep]:
    """Each reservation event left unpublished by a call, as a step at the time it failed
    (each failed attempt is its own step: the time is in the key)."""
    at = utc_text(datetime.now(UTC))
    return [
        TimelineStep(
            reservation_id=e.reservation.id,
            restaurant_id=e.reservation.restaurant_id,
            at=at,
            what="event not published",
            step_id=f"unpublished:{e.event_id}",
            details={
                "event": e.detail_type,
                "event_id": e.event_id,
                "status": e.reservation.status.value,
                "correlation_id": e.correlation_id or "",
                "error": errors.get(e.event_id, error),
            },
        )
        for e in events
        if isinstance(e, BusinessEvent)
    ]


def _error_name(error: Exception) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", "ClientError"))
    return type(error).__name__


def _order(item: _Pending) -> int:
    return int(item.sequence_number)


def _resume_at(sequence_number: str) -> dict[str, list[dict[str, str]]]:
    return {"batchItemFailures": [{"itemIdentifier": sequence_number}]}


def quarantine_to_queue(
    sqs: Any, queue_url: Callable[[], str]
) -> Callable[[dict[str, Any], str], None]:
    """Sends an unreadable record, with the reason, to the stream-failure queue."""

    def send(record: dict[str, Any], reason: str) -> None:
        body = json.dumps({"reason": reason, "record": record}, default=str)
        image = record.get("dynamodb", {}).get("NewImage", {})
        sent = image.get("correlation_id", {}).get("S") if isinstance(image, dict) else None
        attributes = (
            {"correlation_id": {"DataType": "String", "StringValue": sent}}
            if isinstance(sent, str) and sent
            else {}
        )
        sqs.send_message(QueueUrl=queue_url(), MessageBody=body, MessageAttributes=attributes)

    return send
