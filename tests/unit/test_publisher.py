"""Grouping events into PutEvents calls, the relay's batch (failed attempts on the timeline,
metrics, log lines), and how the daily totals move."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from aws_lambda_powertools import Logger

from chalicelib.adapters.dynamodb.reservations import reservation_item
from chalicelib.adapters.dynamodb.table import to_item
from chalicelib.adapters.dynamodb.timeline import _item as timeline_item
from chalicelib.adapters.publisher import EventPublisher, StreamRelay, _Pending, calls
from chalicelib.domain.events import BusinessEvent, event_for_change
from chalicelib.domain.reservations import Reservation, Status
from chalicelib.services.notifications import summary_changes
from chalicelib.services.ports import TimelineStep
from tests.builders import NOW
from tests.fakes import InMemoryTimeline
from tests.unit.test_events import pending


def requested(n: int) -> list[BusinessEvent]:
    events = [event_for_change(None, pending()) for _ in range(n)]
    return [e for e in events if e is not None]


def test_calls_hold_at_most_ten_entries() -> None:
    items = [_Pending(str(i), e) for i, e in enumerate(requested(23))]
    assert [len(c) for c in calls(items)] == [10, 10, 3]


def test_one_reservation_never_has_two_events_in_one_call() -> None:
    before = pending()
    after = before.moved_to(Status.ACCEPTED, now=NOW)
    first, second = event_for_change(None, before), event_for_change(before, after)
    assert first and second
    others = requested(3)
    items = [
        _Pending("1", first),
        _Pending("2", others[0]),
        _Pending("3", second),
        _Pending("4", others[1]),
    ]
    grouped = [[p.sequence_number for p in c] for c in calls(items)]
    assert grouped == [["1", "2"], ["3", "4"]]


class AcceptsAll:
    """A stand-in EventBridge client that records what it is sent."""

    def __init__(self, fail_first: int = 0) -> None:
        self.sent: list[int] = []
        self._fail = fail_first

    def put_events(self, Entries: list[dict[str, str]]) -> dict[str, object]:  # noqa: N803
        self.sent.append(len(Entries))
        results: list[dict[str, str]] = []
        for _ in Entries:
            failed = self._fail > 0
            self._fail -= failed
            results.append({"ErrorCode": "InternalFailure"} if failed else {"EventId": "x"})
        return {"FailedEntryCount": sum("ErrorCode" in r for r in results), "Entries": results}


def test_only_failed_entries_are_resent_with_backoff() -> None:
    client, sleeps = AcceptsAll(fail_first=4), list[float]()
    publisher = EventPublisher(client, "bus", sleep=sleeps.append)
    assert publisher.publish_call(requested(10)) == []
    assert client.sent == [10, 4] and len(sleeps) == 1


def test_entries_still_failing_after_the_attempts_are_returned() -> None:
    client = AcceptsAll(fail_first=100)
    events = requested(3)
    still = EventPublisher(client, "bus", attempts=3, sleep=lambda s: None).publish_call(events)
    assert still == events and client.sent == [3, 3, 3]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ([Status.PENDING], {"requested": 1, "pending": 1, "covers_booked": 2}),
        ([Status.PENDING, Status.ACCEPTED], {"requested": 1, "accepted": 1, "covers_booked": 2}),
        ([Status.PENDING, Status.DECLINED], {"requested": 1, "declined": 1}),
        ([Status.PENDING, Status.ACCEPTED, Status.CANCELLED], {"requested": 1, "cancelled": 1}),
    ],
)
def test_totals_follow_the_status_machine(path: list[Status], expected: dict[str, int]) -> None:
    reservation = pending()
    changes = summary_changes(event_for_change(None, reservation))  # type: ignore[arg-type]
    totals = dict(changes)
    for status in path[1:]:
        after = reservation.moved_to(status, now=NOW + timedelta(minutes=1))
        for name, delta in summary_changes(event_for_change(reservation, after)).items():  # type: ignore[arg-type]
            totals[name] = totals.get(name, 0) + delta
        reservation = after
    assert {k: v for k, v in totals.items() if v} == expected


class RecordsMetrics:
    """A Metrics port that keeps the sums of what was flushed."""

    def __init__(self) -> None:
        self.counted: dict[str, int] = {}
        self.flushed: dict[str, int] = {}

    def count(self, name: str, value: int = 1) -> None:
        self.counted[name] = self.counted.get(name, 0) + value

    def flush(self) -> None:
        for name, value in self.counted.items():
            self.flushed[name] = self.flushed.get(name, 0) + value
        self.counted = {}


class KeepsWrites(InMemoryTimeline):
    """The in-memory timeline, also keeping each write's size."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[int] = []

    def add_steps(self, steps: list[TimelineStep]) -> None:
        self.writes.append(len(steps))
        super().add_steps(steps)


def stream_record(sequence: int, reservation: Reservation) -> dict[str, Any]:
    return {
        "eventName": "INSERT",
        "dynamodb": {"NewImage": reservation_item(reservation), "SequenceNumber": str(sequence)},
    }


def relay(
    client: Any, timeline: KeepsWrites, metrics: RecordsMetrics, service: str = "relay-test"
) -> StreamRelay:
    publisher = EventPublisher(client, "bus", attempts=2, sleep=lambda s: None)
    log = Logger(service=service)  # a service's logger keeps the level it was first built with
    return StreamRelay(publisher, lambda record, reason: None, log, timeline, metrics)


def test_a_published_batch_writes_no_timeline_step() -> None:
    # The daily-totals consumer writes each event's "event on the bus" step: the relay, the
    # shard's one serial path, writes only failed attempts.
    reservations = [pending() for _ in range(23)]
    timeline, metrics = KeepsWrites(), RecordsMetrics()
    records = [stream_record(i, r) for i, r in enumerate(reservations)]
    assert relay(AcceptsAll(), timeline, metrics).handle(records) == {"batchItemFailures": []}
    assert timeline.writes == []
    assert metrics.flushed == {"EventsPublished": 23, "PutEventsFailedEntries": 0}


def test_a_failed_entry_ends_the_batch_and_is_a_step_on_its_timeline() -> None:
    reservations = [pending() for _ in range(15)]
    timeline, metrics = KeepsWrites(), RecordsMetrics()
    stuck = reservations[12].id

    class FailsOneReservation(AcceptsAll):
        def put_events(self, Entries: list[dict[str, str]]) -> dict[str, object]:  # noqa: N803
            results = [{"ErrorCode": "InternalFailure"} if stuck in e["Detail"] else {}
                       for e in Entries]  # fmt: skip
            return {"Entries": [r or {"EventId": "x"} for r in results]}

    records = [stream_record(100 + i, r) for i, r in enumerate(reservations)]
    response = relay(FailsOneReservation(), timeline, metrics).handle(records)
    assert response == {"batchItemFailures": [{"itemIdentifier": "112"}]}
    with_steps = [r for r in reservations if timeline.steps(r.restaurant_id, r.id)]
    assert with_steps == [reservations[12]] and timeline.writes == [1]
    [step] = timeline.steps(reservations[12].restaurant_id, stuck)
    assert step.what == "event not published"
    assert step.details["event"] == "ReservationRequested"
    assert step.details["error"] == "InternalFailure" and step.details["event_id"]
    assert metrics.flushed == {"EventsPublished": 14, "PutEventsFailedEntries": 1}


def test_a_call_that_raises_leaves_its_events_steps_and_raises() -> None:
    from botocore.exceptions import ClientError

    class Refuses(AcceptsAll):
        def put_events(self, Entries: list[dict[str, str]]) -> dict[str, object]:  # noqa: N803
            error = {"Error": {"Code": "AccessDeniedException", "Message": "no"}}
            raise ClientError(error, "PutEvents")  # type: ignore[arg-type]

    reservations = [pending() for _ in range(3)]
    timeline, metrics = KeepsWrites(), RecordsMetrics()
    records = [stream_record(i, r) for i, r in enumerate(reservations)]
    with pytest.raises(ClientError):
        relay(Refuses(), timeline, metrics).handle(records)
    for reservation in reservations:
        [step] = timeline.steps(reservation.restaurant_id, reservation.id)
        assert (step.what, step.details["error"]) == (
            "event not published",
            "AccessDeniedException",
        )
    assert metrics.flushed == {"EventsPublished": 0, "PutEventsFailedEntries": 0}


def test_each_event_has_a_log_line_with_its_ids(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "INFO")  # read when the logger is built
    reservations = [pending() for _ in range(12)]
    records = [stream_record(i, r) for i, r in enumerate(reservations)]
    relay(AcceptsAll(), KeepsWrites(), RecordsMetrics(), "relay-test-info").handle(records)
    lines = [vars(r) for r in caplog.records if r.getMessage() == "event published"]
    assert [line["reservation_id"] for line in lines] == [r.id for r in reservations]
    assert [line["sequence_number"] for line in lines] == [str(i) for i in range(12)]
    assert all(line["event_id"] and "correlation_id" in line for line in lines)


def test_timeline_items_are_what_the_boto3_serializer_wrote() -> None:
    step = TimelineStep(
        reservation_id="01M8SD3R33VR21MQZ8PFNVNT73",
        restaurant_id="chez-test",
        at="2026-03-02T08:00:00.123456Z",
        what="event published",
        step_id="1e8ffba6-4e1e-5995-b4d3-5618c06f8eea",
        details={"event": "ReservationRequested", "previous_status": "", "note": "é"},
    )
    expected = to_item(
        {
            "PK": "RESTAURANT#chez-test",
            "SK": "TIMELINE#01M8SD3R33VR21MQZ8PFNVNT73#2026-03-02T08:00:00.123456Z"
            "#1e8ffba6-4e1e-5995-b4d3-5618c06f8eea",
            "entity": "timeline_step",
            "reservation_id": step.reservation_id,
            "restaurant_id": step.restaurant_id,
            "at": step.at,
            "what": step.what,
            "step_id": step.step_id,
            "details": step.details,
            "expires_at": 1790000000,
        }
    )
    assert timeline_item(step, 1790000000) == expected
