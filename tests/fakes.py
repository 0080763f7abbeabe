"""An in-memory `Store` with the same atomicity as the DynamoDB one (one lock per call)."""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import date, datetime

from chalicelib.domain.errors import AlreadyExists, ConcurrentUpdate, NotFound, SlotFull
from chalicelib.domain.reservations import Reservation
from chalicelib.domain.restaurants import Restaurant, occupied_cells
from chalicelib.services.ports import IdempotencyKeyTaken, IdempotencyRecord, StaffToken


class InMemoryStore:
    def __init__(self) -> None:
        self.restaurants: dict[str, Restaurant] = {}
        self.reservations: dict[tuple[str, str], Reservation] = {}
        self.covers: dict[str, dict[datetime, int]] = defaultdict(dict)
        self.idempotency: dict[tuple[str, str], IdempotencyRecord] = {}
        self.tokens: dict[str, StaffToken] = {}
        self.applied_events: set[str] = set()
        self.summaries: dict[tuple[str, date], dict[str, int]] = {}
        self._lock = threading.Lock()

    def add_restaurant(self, restaurant: Restaurant) -> None:
        with self._lock:
            if restaurant.id in self.restaurants:
                raise AlreadyExists("restaurant", restaurant.id, field="id")
            self.restaurants[restaurant.id] = restaurant

    def replace_restaurant(self, restaurant: Restaurant) -> None:
        with self._lock:
            current = self.restaurants.get(restaurant.id)
            if current is None or current.version != restaurant.version - 1:
                raise ConcurrentUpdate("the restaurant was changed meanwhile", field="version")
            self.restaurants[restaurant.id] = restaurant

    def get_restaurant(self, restaurant_id: str) -> Restaurant | None:
        return self.restaurants.get(restaurant_id)

    def add_reservation(
        self, reservation: Reservation, *, capacity: int, idempotency: IdempotencyRecord | None
    ) -> None:
        with self._lock:
            if idempotency is not None:
                taken = self.idempotency.get((idempotency.restaurant_id, idempotency.key_digest))
                if taken is not None and taken.expires_at >= idempotency.created_at:
                    raise IdempotencyKeyTaken()
            held = self.covers[reservation.restaurant_id]
            cells = occupied_cells(reservation.starts_at, reservation.dining_minutes)
            if any(held.get(c, 0) + reservation.party_size > capacity for c in cells):
                raise SlotFull(reservation.party_size, reservation.starts_at)
            for cell in cells:
                held[cell] = held.get(cell, 0) + reservation.party_size
            self.reservations[(reservation.restaurant_id, reservation.id)] = reservation
            if idempotency is not None:
                self.idempotency[(idempotency.restaurant_id, idempotency.key_digest)] = idempotency

    def get_reservation(self, restaurant_id: str, reservation_id: str) -> Reservation | None:
        return self.reservations.get((restaurant_id, reservation_id))

    def save_transition(self, before: Reservation, after: Reservation) -> None:
        with self._lock:
            key = (before.restaurant_id, before.id)
            if self.reservations[key].version != before.version:
                raise ConcurrentUpdate("the reservation changed meanwhile", field=None)
            if before.holds_covers and not after.holds_covers:
                held = self.covers[before.restaurant_id]
                for cell in occupied_cells(before.starts_at, before.dining_minutes):
                    held[cell] -= before.party_size
            self.reservations[key] = after

    def reservations_on(self, restaurant_id: str, day: date) -> list[Reservation]:
        found = [
            r
            for (rid, _), r in self.reservations.items()
            if rid == restaurant_id and r.local_date == day
        ]
        return sorted(found, key=lambda r: (r.starts_at_utc, r.id))

    def covers_held(
        self, restaurant_id: str, start: datetime, end: datetime
    ) -> dict[datetime, int]:
        return {c: n for c, n in self.covers[restaurant_id].items() if start <= c < end}

    def get_idempotency(self, restaurant_id: str, key_digest: str) -> IdempotencyRecord | None:
        return self.idempotency.get((restaurant_id, key_digest))

    def apply_to_summary(
        self, restaurant_id: str, day: date, event_id: str, changes: dict[str, int]
    ) -> bool:
        with self._lock:
            if event_id in self.applied_events:
                return False
            self.applied_events.add(event_id)
            summary = self.summaries.setdefault((restaurant_id, day), {})
            for name, delta in changes.items():
                summary[name] = summary.get(name, 0) + delta
            return True

    def daily_summary(self, restaurant_id: str, day: date) -> dict[str, int]:
        return dict(self.summaries.get((restaurant_id, day), {}))

    def add_staff_token(self, token: StaffToken) -> None:
        self.tokens[token.token_digest] = token

    def find_staff_token(self, token_digest: str) -> StaffToken | None:
        return self.tokens.get(token_digest)

    def staff_tokens(self, restaurant_id: str) -> list[StaffToken]:
        return [t for t in self.tokens.values() if t.restaurant_id == restaurant_id]

    def revoke_staff_token(self, restaurant_id: str, token_id: str) -> None:
        for digest_, token in list(self.tokens.items()):
            if token.restaurant_id == restaurant_id and token.token_id == token_id:
                del self.tokens[digest_]
                return
        raise NotFound("staff token", token_id, field="token_id")
