"""A reservation's timeline for staff: what happened to it and what the pipeline did about it
(events on the bus or not published, emails sent or failed), oldest first. It answers "did the
staff get the email, and when?" without a log search."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.domain.errors import NotFound
from chalicelib.domain.ids import is_id
from chalicelib.domain.reservations import Reservation
from chalicelib.services.ports import ReservationStore, TimelineStep, TimelineStore


@dataclass(frozen=True)
class Timeline:
    reservation: Reservation
    steps: tuple[TimelineStep, ...]

    def view(self) -> dict[str, Any]:
        r = self.reservation
        requested = {"at": r.created_at.isoformat(), "what": "reservation requested"}
        return {
            "reservation_id": r.id,
            "status": r.status.value,
            "steps": [requested, *(step.view() for step in self.steps)],
        }


class Timelines:
    def __init__(self, reservations: ReservationStore, timeline: TimelineStore) -> None:
        self._reservations = reservations
        self._timeline = timeline

    def of(self, restaurant_id: str, reservation_id: str) -> Timeline:
        found = (
            self._reservations.get_reservation(restaurant_id, reservation_id)
            if is_id(reservation_id)
            else None
        )
        if found is None:
            raise NotFound("reservation", reservation_id, field="reservation_id")
        steps = self._timeline.steps(restaurant_id, reservation_id)
        return Timeline(found, tuple(sorted(steps, key=lambda s: s.at)))
