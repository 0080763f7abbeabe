"""Unanswered requests expire: a PENDING request still unanswered at its `answer_by` (the
restaurant's `response_deadline_hours` after it was made, never later than its seating) is
declined "no answer in time". Run on a schedule; the decline is the same transition and the
same version-conditioned write as a staff decline, so an accept that lands first wins, and a
second run (or two runs at once) changes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.domain.errors import Conflict, on_a_fresh_read
from chalicelib.domain.reservations import (
    DECLINED_BY_DEADLINE,
    NO_ANSWER_REASON,
    Reservation,
    Status,
)
from chalicelib.services.booking import Clock, utc_now
from chalicelib.services.ports import ReservationStore
from chalicelib.services.schedules import ScheduledRun

# At most this many a run (one scheduled run a minute): a backlog drains over a few runs
# instead of one run outliving its timeout.
MAX_EXPIRIES_PER_RUN = 500


class UnansweredRequests:
    """Declines the requests whose answer deadline has passed."""

    def __init__(self, reservations: ReservationStore, clock: Clock = utc_now) -> None:
        self._reservations = reservations
        self._clock = clock

    def expire(self) -> ScheduledRun:
        """Decline every overdue PENDING request (up to MAX_EXPIRIES_PER_RUN); skipped: found
        overdue but answered meanwhile (or changed by someone else three times)."""
        now = self._clock()
        expired, skipped, lateness = 0, 0, timedelta(0)
        for overdue in self._reservations.unanswered_by(now, MAX_EXPIRIES_PER_RUN):
            declined = self._decline(overdue, now)
            if declined is None:
                skipped += 1
                continue
            expired += 1
            assert declined.answer_by is not None
            lateness = max(lateness, declined.updated_at - declined.answer_by)
        return ScheduledRun("expired", expired, skipped, lateness.total_seconds())

    def _decline(self, overdue: Reservation, now: datetime) -> Reservation | None:
        # The index is read eventually consistent: re-read the item, decide on it, and write
        # only if its version is still the one decided on.

        def attempt() -> Reservation | None:
            before = self._reservations.get_reservation(overdue.restaurant_id, overdue.id)
            if before is None or not before.unanswered_at(now):
                return None  # answered (accepted, declined, cancelled) meanwhile
            try:
                after = before.moved_to(
                    Status.DECLINED,
                    now=self._clock(),
                    decline_reason=NO_ANSWER_REASON,
                    declined_by=DECLINED_BY_DEADLINE,
                )
            except Conflict:  # a change it cannot make: its guest's details were removed
                return None
            self._reservations.save_transition(before, after)
            return after

        return on_a_fresh_read(attempt)
