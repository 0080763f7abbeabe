"""In-memory stores, one per port of `services.ports`, with the same atomicity as the DynamoDB
ones (one lock per call). The store contract tests run against both."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from chalicelib.domain.booking_rules import occupied_cells
from chalicelib.domain.errors import AlreadyExists, ConcurrentUpdate, NotFound, SlotFull
from chalicelib.domain.reservations import Reservation, Status
from chalicelib.domain.restaurants import Restaurant
from chalicelib.domain.tokens import ManageTokens
from chalicelib.services.booking import ReservationDesk, RestaurantAdmin
from chalicelib.services.ports import (
    PERSONAL_STEP_DETAILS,
    IdempotencyKeyTaken,
    IdempotencyRecord,
    QuotaExceeded,
    RequestQuota,
    SignInRequest,
    StaffSession,
    StaffToken,
    Stores,
    TimelineStep,
)

Clock = Callable[[], datetime]


class InMemoryRestaurants:
    def __init__(self) -> None:
        self.stored: dict[str, Restaurant] = {}
        self._lock = threading.Lock()

    def add_restaurant(self, restaurant: Restaurant) -> None:
        with self._lock:
            if restaurant.id in self.stored:
                raise AlreadyExists("restaurant", restaurant.id, field="id")
            self.stored[restaurant.id] = restaurant

    def replace_restaurant(self, restaurant: Restaurant) -> None:
        with self._lock:
            current = self.stored.get(restaurant.id)
            if current is None or current.version != restaurant.version - 1:
                raise ConcurrentUpdate("the restaurant was changed meanwhile", field="version")
            self.stored[restaurant.id] = restaurant

    def get_restaurant(self, restaurant_id: str) -> Restaurant | None:
        return self.stored.get(restaurant_id)


class InMemoryReservations:
    def __init__(self) -> None:
        self.stored: dict[tuple[str, str], Reservation] = {}
        self.covers: dict[str, dict[datetime, int]] = defaultdict(dict)
        self.idempotency: dict[tuple[str, str], IdempotencyRecord] = {}
        # (restaurant, kind, digest, day) -> requests counted
        self.quotas: defaultdict[tuple[str, str, str, date], int] = defaultdict(int)
        self._lock = threading.Lock()

    def add_reservation(
        self,
        reservation: Reservation,
        *,
        capacity: int,
        idempotency: IdempotencyRecord | None,
        quotas: Sequence[RequestQuota] = (),
    ) -> None:
        with self._lock:
            if idempotency is not None:
                taken = self.idempotency.get((idempotency.restaurant_id, idempotency.key_digest))
                if taken is not None and taken.expires_at >= idempotency.created_at:
                    raise IdempotencyKeyTaken()
            counters = [(q, (q.restaurant_id, q.kind, q.subject_digest, q.day)) for q in quotas]
            for quota, counter in counters:
                if self.quotas[counter] >= quota.limit:
                    raise QuotaExceeded(quota.kind)
            held = self.covers[reservation.restaurant_id]
            cells = occupied_cells(reservation.starts_at, reservation.dining_minutes)
            if any(held.get(c, 0) + reservation.party_size > capacity for c in cells):
                raise SlotFull(reservation.party_size, reservation.starts_at)
            for cell in cells:
                held[cell] = held.get(cell, 0) + reservation.party_size
            for _, counter in counters:
                self.quotas[counter] += 1
            self.stored[(reservation.restaurant_id, reservation.id)] = reservation
            if idempotency is not None:
                self.idempotency[(idempotency.restaurant_id, idempotency.key_digest)] = idempotency

    def get_reservation(self, restaurant_id: str, reservation_id: str) -> Reservation | None:
        return self.stored.get((restaurant_id, reservation_id))

    def save_transition(self, before: Reservation, after: Reservation) -> None:
        with self._lock:
            key = (before.restaurant_id, before.id)
            if self.stored[key].version != before.version:
                raise ConcurrentUpdate("the reservation changed meanwhile", field=None)
            if before.holds_covers and not after.holds_covers:
                held = self.covers[before.restaurant_id]
                for cell in occupied_cells(before.starts_at, before.dining_minutes):
                    held[cell] -= before.party_size
            self.stored[key] = after

    def reservations_on(self, restaurant_id: str, day: date) -> list[Reservation]:
        found = [
            r for (rid, _), r in self.stored.items() if rid == restaurant_id and r.local_date == day
        ]
        return sorted(found, key=lambda r: (r.starts_at_utc, r.id))

    def covers_held(
        self, restaurant_id: str, start: datetime, end: datetime
    ) -> dict[datetime, int]:
        return {c: n for c, n in self.covers[restaurant_id].items() if start <= c < end}

    def unanswered_by(self, now: datetime, limit: int) -> list[Reservation]:
        found = [r for r in self.stored.values() if r.unanswered_at(now)]
        return sorted(found, key=lambda r: (r.answer_by, r.restaurant_id, r.id))[:limit]

    def with_guest_details_seated_by(self, moment: datetime, limit: int) -> list[Reservation]:
        found = [
            r
            for r in self.stored.values()
            if r.guest is not None
            and r.starts_at <= moment
            and not (r.status is Status.PENDING and r.answer_by is not None)
        ]
        return sorted(found, key=lambda r: (r.starts_at_utc, r.restaurant_id, r.id))[:limit]

    def get_idempotency(self, restaurant_id: str, key_digest: str) -> IdempotencyRecord | None:
        return self.idempotency.get((restaurant_id, key_digest))


class InMemoryDailyTotals:
    def __init__(self) -> None:
        self.applied_events: set[str] = set()
        self.summaries: dict[tuple[str, date], dict[str, int]] = {}
        self._lock = threading.Lock()

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


class InMemoryStaffTokens:
    def __init__(self) -> None:
        self.by_digest: dict[str, StaffToken] = {}

    def add_staff_token(self, token: StaffToken) -> None:
        self.by_digest[token.token_digest] = token

    def find_staff_token(self, token_digest: str) -> StaffToken | None:
        return self.by_digest.get(token_digest)

    def staff_tokens(self, restaurant_id: str) -> list[StaffToken]:
        return [t for t in self.by_digest.values() if t.restaurant_id == restaurant_id]

    def revoke_staff_token(self, restaurant_id: str, token_id: str) -> None:
        for digest_, token in list(self.by_digest.items()):
            if token.restaurant_id == restaurant_id and token.token_id == token_id:
                del self.by_digest[digest_]
                return
        raise NotFound("staff token", token_id, field="token_id")


class InMemoryTimeline:
    def __init__(self) -> None:
        self.by_id: dict[tuple[str, str, str], TimelineStep] = {}

    def add_steps(self, steps: list[TimelineStep]) -> None:
        for step in steps:
            self.by_id[(step.restaurant_id, step.reservation_id, step.step_id)] = step

    def steps(self, restaurant_id: str, reservation_id: str) -> list[TimelineStep]:
        found = [s for (rid, res, _), s in self.by_id.items() if (rid, res) == (restaurant_id,
                 reservation_id)]  # fmt: skip
        return sorted(found, key=lambda s: (s.at, s.step_id))

    def remove_personal_details(self, restaurant_id: str, reservation_id: str) -> int:
        changed = 0
        for key, step in list(self.by_id.items()):
            personal = set(PERSONAL_STEP_DETAILS) & set(step.details)
            if key[:2] == (restaurant_id, reservation_id) and personal:
                kept = {k: v for k, v in step.details.items() if k not in personal}
                self.by_id[key] = step._replace(details=kept)
                changed += 1
        return changed


class InMemoryStaffSessions:
    def __init__(self) -> None:
        self.sessions: dict[str, StaffSession] = {}
        self.sign_in_requests: list[SignInRequest] = []
        self.per_hour: defaultdict[tuple[str, str, int], int] = defaultdict(int)

    def add_session(self, session: StaffSession) -> None:
        self.sessions[session.session_digest] = session

    def get_session(self, session_digest: str) -> StaffSession | None:
        return self.sessions.get(session_digest)

    def end_session(self, session_digest: str) -> None:
        self.sessions.pop(session_digest, None)

    def add_sign_in_request(self, request: SignInRequest, per_hour: int) -> bool:
        hour = (request.restaurant_id, request.email.lower(), request.requested_at.hour)
        if self.per_hour[hour] >= per_hour:
            return False
        self.per_hour[hour] += 1
        self.sign_in_requests.append(request)
        return True


@dataclass
class InMemoryStores:
    """The fakes together; tests read their state (`reservations.covers`, …) directly."""

    restaurants: InMemoryRestaurants = field(default_factory=InMemoryRestaurants)
    reservations: InMemoryReservations = field(default_factory=InMemoryReservations)
    totals: InMemoryDailyTotals = field(default_factory=InMemoryDailyTotals)
    staff_tokens: InMemoryStaffTokens = field(default_factory=InMemoryStaffTokens)
    timeline: InMemoryTimeline = field(default_factory=InMemoryTimeline)
    sessions: InMemoryStaffSessions = field(default_factory=InMemoryStaffSessions)

    def ports(self) -> Stores:
        return Stores(
            self.restaurants,
            self.reservations,
            self.totals,
            self.staff_tokens,
            self.timeline,
            self.sessions,
        )

    def admin(self, clock: Clock) -> RestaurantAdmin:
        return RestaurantAdmin(self.restaurants, self.staff_tokens, clock)

    def desk(self, clock: Clock) -> ReservationDesk:
        return ReservationDesk(self.restaurants, self.reservations, ManageTokens("k" * 32), clock)
