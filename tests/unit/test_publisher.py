"""Grouping events into PutEvents calls, and how the daily totals move."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.adapters.publisher import EventPublisher, _Pending, calls
from chalicelib.domain.events import BusinessEvent, event_for_change
from chalicelib.domain.reservations import Status
from chalicelib.services.notifications import summary_changes
from tests.builders import NOW
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
