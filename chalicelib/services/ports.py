"""What the services need from storage, one port per aggregate (restaurants, reservations with
their capacity grid, daily totals, staff tokens), and from the mail server. The DynamoDB
adapters and the tests' in-memory fakes honour the same contract (the same contract tests run
against both)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple, Protocol

from chalicelib.domain.reservations import Reservation
from chalicelib.domain.restaurants import Restaurant
from chalicelib.services.emails import Email


@dataclass(frozen=True)
class IdempotencyRecord:
    """Remembers which reservation an Idempotency-Key created, and from which request."""

    restaurant_id: str
    key_digest: str
    fingerprint: str
    reservation_id: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class StaffToken:
    token_id: str
    restaurant_id: str
    label: str
    token_digest: str
    created_at: datetime

    def view(self) -> dict[str, str]:
        return {
            "id": self.token_id,
            "restaurant_id": self.restaurant_id,
            "label": self.label,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True)
class RequestQuota:
    """One counter of booking requests: from one client address (`kind` "client") or for one
    guest email ("email"), at one restaurant on one local day. Only the digest of the address
    or the lower-cased email is stored; the counter expires at `expires_at`."""

    restaurant_id: str
    kind: str
    subject_digest: str
    day: date
    limit: int
    expires_at: datetime


class QuotaExceeded(Exception):
    """A booking would take a `RequestQuota` past its limit."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class IdempotencyKeyTaken(Exception):
    """Another request claimed the same Idempotency-Key first (a concurrent retry)."""


class RestaurantStore(Protocol):
    def add_restaurant(self, restaurant: Restaurant) -> None:
        """Raises AlreadyExists when the id is taken."""

    def replace_restaurant(self, restaurant: Restaurant) -> None:
        """Stores `restaurant` if the stored one has version `restaurant.version - 1`;
        raises ConcurrentUpdate otherwise."""

    def get_restaurant(self, restaurant_id: str) -> Restaurant | None: ...


class ReservationStore(Protocol):
    """Reservations, the capacity grid they hold, and the clients' Idempotency-Keys."""

    def add_reservation(
        self,
        reservation: Reservation,
        *,
        capacity: int,
        idempotency: IdempotencyRecord | None,
        quotas: Sequence[RequestQuota] = (),
    ) -> None:
        """Atomically: store the reservation, add its covers to every grid cell it occupies
        unless one would exceed `capacity` (SlotFull), count it in every quota unless one is
        at its limit (QuotaExceeded), and claim the idempotency key (IdempotencyKeyTaken).
        All or nothing; a taken key is reported first, then a quota, then a full slot."""

    def get_reservation(self, restaurant_id: str, reservation_id: str) -> Reservation | None: ...

    def save_transition(self, before: Reservation, after: Reservation) -> None:
        """Atomically store `after` if the stored version is still `before.version`
        (ConcurrentUpdate otherwise), releasing the covers when `after` no longer holds them."""

    def reservations_on(self, restaurant_id: str, day: date) -> list[Reservation]:
        """Reservations whose local date is `day`, sorted by start time."""

    def unanswered_by(self, now: datetime, limit: int) -> list[Reservation]:
        """Up to `limit` PENDING reservations, of every restaurant, whose `answer_by` is at or
        before `now`, earliest deadline first (possibly a little stale: re-read to decide)."""

    def with_guest_details_seated_by(self, moment: datetime, limit: int) -> list[Reservation]:
        """Up to `limit` answered reservations, of every restaurant, that still hold their
        guest's details and whose seating began at or before `moment`, earliest first
        (possibly a little stale: re-read to decide)."""

    def covers_held(
        self, restaurant_id: str, start: datetime, end: datetime
    ) -> dict[datetime, int]:
        """Covers held per UTC grid cell in [start, end)."""

    def get_idempotency(self, restaurant_id: str, key_digest: str) -> IdempotencyRecord | None: ...


class DailyTotalStore(Protocol):
    def apply_to_summary(
        self, restaurant_id: str, day: date, event_id: str, changes: dict[str, int]
    ) -> bool:
        """Add `changes` to the day's summary once per `event_id`, atomically with a record of
        the event; False (and nothing changed) if that event was already applied."""

    def daily_summary(self, restaurant_id: str, day: date) -> dict[str, int]: ...


class StaffTokenStore(Protocol):
    def add_staff_token(self, token: StaffToken) -> None: ...

    def find_staff_token(self, token_digest: str) -> StaffToken | None: ...

    def staff_tokens(self, restaurant_id: str) -> list[StaffToken]: ...

    def revoke_staff_token(self, restaurant_id: str, token_id: str) -> None:
        """Raises NotFound when the restaurant has no such token."""


@dataclass(frozen=True)
class StaffSession:
    """A signed-in browser of a restaurant's staff (the day view). It lasts until `expires_at`,
    sign-out, or until what it came from is gone: one of `staff_emails` (the addresses the
    sign-in link was sent to) removed from the restaurant, or its staff token revoked."""

    session_digest: str  # the cookie's secret is never stored
    restaurant_id: str
    staff_emails: tuple[str, ...]
    token_digest: str | None
    csrf_token: str  # what the session's forms must send back
    expires_at: datetime


class StaffSessionStore(Protocol):
    def add_session(self, session: StaffSession) -> None: ...

    def get_session(self, session_digest: str) -> StaffSession | None:
        """The session, also after `expires_at` (DynamoDB's TTL deletes it lazily)."""
        ...

    def end_session(self, session_digest: str) -> None: ...

    def add_sign_in_request(self, request: SignInRequest, per_hour: int) -> bool:
        """Store a request for a sign-in link (it becomes an event, then an email), unless
        `per_hour` were already asked for this address in this hour: then False."""
        ...


@dataclass(frozen=True)
class SignInRequest:
    request_id: str
    restaurant_id: str
    email: str  # an address on the restaurant's staff list
    requested_at: datetime
    correlation_id: str | None = None


class TimelineStep(NamedTuple):
    """One thing the pipeline did for a reservation: an event on the bus, an attempt to
    publish one that failed, an email sent, an email attempt that failed. `at` is ISO 8601
    UTC; the same `at` and `step_id` overwrite. (A named tuple: immutable and cheap.)"""

    reservation_id: str
    restaurant_id: str
    at: str
    what: str  # "event on the bus", "event not published", "email sent", "email failed"
    step_id: str
    details: dict[str, str]

    def view(self) -> dict[str, str]:
        return {"at": self.at, "what": self.what, **self.details}


# The details of a timeline step that can name a guest: an "email sent" step's recipients and
# subject (the subject of a staff email holds the guest's name).
PERSONAL_STEP_DETAILS = ("to", "subject")


class TimelineStore(Protocol):
    def add_steps(self, steps: list[TimelineStep]) -> None:
        """Store the steps (each kept 30 days); the same step (time and id) overwrites itself."""

    def steps(self, restaurant_id: str, reservation_id: str) -> list[TimelineStep]:
        """A reservation's steps, oldest first."""
        ...

    def remove_personal_details(self, restaurant_id: str, reservation_id: str) -> int:
        """Take what names the guest (PERSONAL_STEP_DETAILS) out of a reservation's steps;
        the number of steps changed."""
        ...


@dataclass(frozen=True)
class Stores:
    """One store per aggregate, as the wiring (DynamoDB) or a test (in memory) builds them."""

    restaurants: RestaurantStore
    reservations: ReservationStore
    totals: DailyTotalStore
    staff_tokens: StaffTokenStore
    timeline: TimelineStore
    sessions: StaffSessionStore


class Mailer(Protocol):
    def send(self, email: Email) -> str:
        """Send `email`; the mail server's message id."""
        ...


class Metrics(Protocol):
    """Counts for dashboards and alarms (CloudWatch embedded metrics in AWS)."""

    def count(self, name: str, value: int = 1) -> None: ...

    def flush(self) -> None:
        """Emit what was counted since the last flush (once per invocation)."""
        ...


class NoMetrics:
    """Counts nothing (tests, tools)."""

    def count(self, name: str, value: int = 1) -> None:
        pass

    def flush(self) -> None:
        pass
