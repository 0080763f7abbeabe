"""Guests' details do not outlive their use: a guest (or staff, at their request) removes them
once the reservation is over, and every reservation loses them the retention period after its
seating (`GUEST_DATA_RETENTION_DAYS`, 90 by default), on a schedule.

Removal takes the name, email, phone, notes and the reason written to the guest off the
reservation, and the recipients and subjects off its timeline; the party size, time and status
stay, and so do the daily totals. The write is version-conditioned like a status change, and a
reservation without details is skipped: a second run, or two at once, changes nothing. Removal
changes no status, so the stream relay publishes no event for it and nobody is emailed.
"""

from __future__ import annotations

from datetime import timedelta

from chalicelib.domain.errors import NotFound, changed_on_a_fresh_read, on_a_fresh_read
from chalicelib.domain.reservations import REMOVED_BY_RETENTION, Reservation
from chalicelib.services import correlation
from chalicelib.services.booking import Clock, utc_now
from chalicelib.services.ports import ReservationStore, TimelineStore
from chalicelib.services.schedules import ScheduledRun

DEFAULT_RETENTION_DAYS = 90
# At most this many a run (one scheduled run an hour): a backlog drains over a few runs.
MAX_REMOVALS_PER_RUN = 1000


class GuestDetails:
    def __init__(
        self,
        reservations: ReservationStore,
        timeline: TimelineStore,
        retention: timedelta = timedelta(days=DEFAULT_RETENTION_DAYS),
        clock: Clock = utc_now,
    ) -> None:
        self._reservations = reservations
        self._timeline = timeline
        self._retention = retention
        self._clock = clock

    @property
    def retention_days(self) -> int:
        return self._retention.days

    def can_remove(self, reservation: Reservation) -> bool:
        """Whether the guest may remove their details now (it is over, and they are there)."""
        return not reservation.guest_details_removed and reservation.is_over(self._clock())

    def remove(self, restaurant_id: str, reservation_id: str, *, by: str) -> Reservation:
        """At the guest's request (`by` "guest", or "staff" for them): only once the
        reservation is over (409 `reservation_not_over` before). Removed already: as it is."""

        def attempt() -> Reservation:
            before = self._reservations.get_reservation(restaurant_id, reservation_id)
            if before is None:
                raise NotFound("reservation", reservation_id, field="reservation_id")
            if before.guest_details_removed:
                return before
            after = before.without_guest_details(
                now=self._clock(), by=by, correlation_id=correlation.current()
            )
            self._store(before, after)
            return after

        return changed_on_a_fresh_read(attempt)

    def remove_expired(self) -> ScheduledRun:
        """Remove the details of every reservation seated longer ago than the retention period
        (up to MAX_REMOVALS_PER_RUN); skipped: found due but changed meanwhile."""
        now = self._clock()
        due_by = now - self._retention
        removed, skipped, lateness = 0, 0, timedelta(0)
        for due in self._reservations.with_guest_details_seated_by(due_by, MAX_REMOVALS_PER_RUN):
            done = self._expire(due.restaurant_id, due.id)
            if done is None:
                skipped += 1
                continue
            removed += 1
            lateness = max(lateness, self._clock() - (done.starts_at + self._retention))
        return ScheduledRun("removed", removed, skipped, lateness.total_seconds())

    def _expire(self, restaurant_id: str, reservation_id: str) -> Reservation | None:
        # The index is read eventually consistent: re-read, decide, write on that version.
        # Seated a retention period (a day at least) ago, it is over (a meal lasts 8 h at
        # most), so the removal is never refused as too early.

        def attempt() -> Reservation | None:
            before = self._reservations.get_reservation(restaurant_id, reservation_id)
            if before is None or before.guest_details_removed:
                return None
            now = self._clock()
            if before.starts_at + self._retention > now:
                return None
            after = before.without_guest_details(now=now, by=REMOVED_BY_RETENTION)
            self._store(before, after)
            return after

        return on_a_fresh_read(attempt)

    def _store(self, before: Reservation, after: Reservation) -> None:
        # The timeline first: a crash between the two leaves the reservation as it was, and
        # the next try (the guest's, or the next run) does both; the other way round, the
        # timeline could keep naming a guest whose reservation no longer does.
        self._timeline.remove_personal_details(before.restaurant_id, before.id)
        self._reservations.save_transition(before, after)
