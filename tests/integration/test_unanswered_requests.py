"""Unanswered requests expire on moto, through the real handlers: the scheduled run declines
a PENDING request past its deadline (the sparse unanswered index, the conditional write), the
stream turns it into ReservationDeclined, the guest and staff are each emailed once, the day's
totals and the covers follow; replays and second runs change nothing. The clock of the run is
injected (deadlines are hours away): the run is the app's handler, invoked as its rule does."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from chalicelib.adapters.dynamodb.reservations import DynamoReservations
from chalicelib.adapters.dynamodb.table import Table
from chalicelib.domain.reservations import (
    DECLINED_BY_DEADLINE,
    NO_ANSWER_REASON,
    Reservation,
    Status,
)
from chalicelib.services.expiry import UnansweredRequests
from chalicelib.wiring import bootstrap
from chalicelib.wiring.event_sources import EXPIRY_SCHEDULE_MINUTES
from tests.pipeline import RES, SLOTS, Flow, sent_emails

_log = logging.getLogger("tests.unanswered_requests")


def run_at(flow: Flow, clock: Callable[[], datetime]) -> dict[str, float]:
    """The scheduled handler, its service reading `clock` (the wiring's own, replaced)."""
    wiring = bootstrap.wiring()
    wiring.__dict__["unanswered_requests"] = UnansweredRequests(wiring.stores.reservations, clock)
    return flow.pipeline.run_expiry()


def stored(flow: Flow, reservation_id: str) -> Reservation:
    found = bootstrap.wiring().stores.reservations.get_reservation("bistro-a", reservation_id)
    assert found is not None
    return found


def test_an_unanswered_request_is_declined_and_guest_and_staff_told_once(flow: Flow) -> None:
    waiting = flow.book(hhmm="19:30", party_size=2)
    answered = flow.book(hhmm="20:00", party_size=3)
    flow.pipeline.drain()
    status, _, _ = flow.api.call("POST", f"{RES}/{answered['id']}/accept", None, flow.staff)
    assert status == 200
    flow.pipeline.drain()
    before = len(sent_emails())
    deadline = stored(flow, waiting["id"]).answer_by
    assert deadline is not None

    assert run_at(flow, lambda: deadline - timedelta(seconds=1))["expired"] == 0
    run = run_at(flow, lambda: deadline + timedelta(seconds=45))
    assert run == {"expired": 1, "skipped": 0, "max_lateness_seconds": 45.0}
    flow.pipeline.drain()

    declined = stored(flow, waiting["id"])
    assert (declined.status.value, declined.decline_reason, declined.declined_by) == (
        "DECLINED", NO_ANSWER_REASON, DECLINED_BY_DEADLINE)  # fmt: skip
    assert stored(flow, answered["id"]).status.value == "ACCEPTED"
    new = sent_emails()[before:]
    to_guest = [e for e in new if e.to == ("grace@example.com",)]
    to_staff = [e for e in new if e.to == ("chef@a.example", "desk@a.example")]
    assert len(to_guest) == 1 and len(to_staff) == 1 and len(new) == 2
    assert "Reason: no answer in time" in to_guest[0].text
    assert to_staff[0].subject.startswith("Not answered in time: Grace Hopper, 2 guests")
    assert to_staff[0].headers["X-Reservation-Id"] == waiting["id"]
    summary = flow.summary()
    assert (summary["pending"], summary["accepted"], summary["declined"]) == (0, 1, 1)
    assert summary["covers_booked"] == 3  # the declined party's 2 released
    status, body, _ = flow.api.call("GET", f"{RES}/{waiting['id']}", None, flow.staff)
    assert body["declined_by"] == "deadline"

    # Replays: a second run, the stream's records again, every bus event again.
    assert run_at(flow, lambda: deadline + timedelta(minutes=5))["expired"] == 0
    assert flow.pipeline.run_stream(flow.pipeline.handled_records) == {"batchItemFailures": []}
    flow.pipeline.drain()
    for event in list(flow.pipeline.delivered):
        flow.pipeline.run_bus(event)
    assert len(sent_emails()) == before + 2
    assert flow.summary() == summary


def test_the_scheduled_run_with_the_real_clock_declines_nothing_early(flow: Flow) -> None:
    flow.book(hhmm="19:30", party_size=2)
    bootstrap.reset()
    assert flow.pipeline.run_expiry() == {"expired": 0, "skipped": 0, "max_lateness_seconds": 0}


def test_lateness_is_within_a_schedule_period_and_the_run(flow: Flow) -> None:
    """The worst phase: a run comes just before the last deadline, so that request waits a
    whole period for the next run. Each run is at its tick plus the real time it takes (the
    injected clock advances with it); every request is declined within a period plus a run."""
    ids = [flow.book(hhmm=SLOTS[i % len(SLOTS)], party_size=1)["id"] for i in range(12)]
    deadlines = sorted(d for i in ids if (d := stored(flow, i).answer_by) is not None)
    period = timedelta(minutes=EXPIRY_SCHEDULE_MINUTES)
    tick = deadlines[-1] - timedelta(milliseconds=1)
    expired, worst, longest_run = 0, 0.0, 0.0
    for _ in range(3):
        started = time.perf_counter()

        def clock(tick: datetime = tick, started: float = started) -> datetime:
            return tick + timedelta(seconds=time.perf_counter() - started)

        run = run_at(flow, clock)
        longest_run = max(longest_run, time.perf_counter() - started)
        expired += int(run["expired"])
        worst = max(worst, float(run["max_lateness_seconds"]))
        tick += period
    assert expired == len(ids)
    assert period.total_seconds() - 0.01 <= worst <= period.total_seconds() + longest_run
    _log.info("expired %d, max lateness %.3f s, longest run %.3f s", expired, worst, longest_run)


class AcceptLandsAfterTheRead(DynamoReservations):
    """Staff accept the request between the run's read of it and its decline."""

    raced = False

    def get_reservation(self, restaurant_id: str, reservation_id: str) -> Reservation | None:
        found = super().get_reservation(restaurant_id, reservation_id)
        if not self.raced and found is not None and found.status is Status.PENDING:
            self.raced = True
            self.save_transition(found, found.moved_to(Status.ACCEPTED, now=found.updated_at))
        return found


def test_an_accept_that_lands_between_read_and_write_wins(flow: Flow) -> None:
    booked = flow.book(hhmm="19:30", party_size=2)
    deadline = stored(flow, booked["id"]).answer_by
    assert deadline is not None
    wiring = bootstrap.wiring()
    racing = AcceptLandsAfterTheRead(Table(wiring.client("dynamodb"), wiring.settings.table_name))
    run = UnansweredRequests(racing, lambda: deadline + timedelta(seconds=5)).expire()
    assert (run.done, run.skipped) == (0, 1)
    assert stored(flow, booked["id"]).status is Status.ACCEPTED
