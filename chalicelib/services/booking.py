"""Use cases: what guests, staff and administrators can do. Storage comes in through the
ports (`services.ports`), one per aggregate."""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from chalicelib.domain.booking_rules import (
    check_booking_window,
    check_party_size,
    check_seating,
    localize,
    occupied_cells,
    seatings,
)
from chalicelib.domain.errors import (
    ConcurrentUpdate,
    IdempotencyKeyReused,
    Invalid,
    NotFound,
    TooManyRequests,
    changed_on_a_fresh_read,
)
from chalicelib.domain.ids import is_id, new_id
from chalicelib.domain.reservations import (
    DECLINED_BY_STAFF,
    RequestReservation,
    Reservation,
    Status,
    answer_deadline,
)
from chalicelib.domain.restaurants import NewRestaurant, Restaurant, RestaurantSettings, is_slug
from chalicelib.domain.tokens import ManageTokens, digest, new_staff_token
from chalicelib.services import correlation
from chalicelib.services.ports import (
    IdempotencyKeyTaken,
    IdempotencyRecord,
    QuotaExceeded,
    RequestQuota,
    ReservationStore,
    RestaurantStore,
    StaffToken,
    StaffTokenStore,
)

Clock = Callable[[], datetime]
IDEMPOTENCY_TTL = timedelta(hours=24)
MAX_IDEMPOTENCY_KEY_LENGTH = 255
# How long a day's request counter outlives the day (DynamoDB's TTL deletes it lazily).
QUOTA_TTL = timedelta(days=2)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Seating:
    starts_at: datetime  # aware, in the restaurant's timezone
    available: bool  # for the party size asked about, now


@dataclass(frozen=True)
class Availability:
    """A day's seatings at one restaurant, each bookable or not for one party size."""

    restaurant_id: str
    day: date
    party_size: int
    timezone: str
    seatings: tuple[Seating, ...]

    def view(self) -> dict[str, Any]:
        return {
            "restaurant_id": self.restaurant_id,
            "date": self.day.isoformat(),
            "party_size": self.party_size,
            "timezone": self.timezone,
            "slots": [
                {"starts_at": s.starts_at.isoformat(), "available": s.available}
                for s in self.seatings
            ],
        }


@dataclass(frozen=True)
class Booking:
    """The answer to a booking request. `replayed` is true when an Idempotency-Key matched an
    earlier request and nothing new was created."""

    reservation: Reservation
    manage_token: str
    replayed: bool

    def view(self) -> dict[str, Any]:
        return {**self.reservation.public(), "manage_token": self.manage_token}


@dataclass(frozen=True)
class IssuedStaffToken:
    token: StaffToken
    secret: str

    def view(self) -> dict[str, str]:
        return {**self.token.view(), "token": self.secret}


class RestaurantAdmin:
    """Administrators create and edit restaurants and issue staff tokens."""

    def __init__(
        self, restaurants: RestaurantStore, staff_tokens: StaffTokenStore, clock: Clock = utc_now
    ) -> None:
        self._restaurants = restaurants
        self._staff_tokens = staff_tokens
        self._clock = clock

    def create(self, spec: NewRestaurant) -> Restaurant:
        now = self._clock()
        restaurant = Restaurant(**spec.model_dump(), version=1, created_at=now, updated_at=now)
        self._restaurants.add_restaurant(restaurant)
        return restaurant

    def replace(self, restaurant_id: str, settings: RestaurantSettings) -> Restaurant:
        current = self.get(restaurant_id)
        updated = Restaurant(
            **settings.model_dump(),
            id=restaurant_id,
            version=current.version + 1,
            created_at=current.created_at,
            updated_at=self._clock(),
        )
        self._restaurants.replace_restaurant(updated)
        return updated

    def get(self, restaurant_id: str) -> Restaurant:
        return find_restaurant(self._restaurants, restaurant_id)

    def issue_staff_token(self, restaurant_id: str, label: str) -> IssuedStaffToken:
        self.get(restaurant_id)
        secret = new_staff_token()
        token = StaffToken(
            token_id=new_id(),
            restaurant_id=restaurant_id,
            label=label,
            token_digest=digest(secret),
            created_at=self._clock(),
        )
        self._staff_tokens.add_staff_token(token)
        return IssuedStaffToken(token=token, secret=secret)

    def staff_tokens(self, restaurant_id: str) -> list[StaffToken]:
        self.get(restaurant_id)
        return self._staff_tokens.staff_tokens(restaurant_id)

    def revoke_staff_token(self, restaurant_id: str, token_id: str) -> None:
        self.get(restaurant_id)
        if not is_id(token_id):
            raise NotFound("staff token", token_id, field="token_id")
        self._staff_tokens.revoke_staff_token(restaurant_id, token_id)


class ReservationDesk:
    """Guests book and cancel; staff accept, decline, cancel and list."""

    def __init__(
        self,
        restaurants: RestaurantStore,
        reservations: ReservationStore,
        manage_tokens: ManageTokens,
        clock: Clock = utc_now,
    ) -> None:
        self._restaurants = restaurants
        self._reservations = reservations
        self._tokens = manage_tokens
        self._clock = clock

    # -- guests ---------------------------------------------------------------------------

    def request(
        self,
        restaurant_id: str,
        command: RequestReservation,
        idempotency_key: str | None = None,
        client_address: str | None = None,
    ) -> Booking:
        """Book a table: one atomic write, or a replay of the booking the same
        Idempotency-Key made before. The write also counts the request against the day's
        quotas of the client address (when known) and of the guest's email; a replay counts
        nothing."""
        restaurant = self._restaurant(restaurant_id)
        claim = self._idempotency_claim(restaurant_id, command, idempotency_key)
        if claim is not None:
            earlier = self._replay(claim)
            if earlier is not None:
                return earlier
        reservation = self._new_reservation(restaurant, command)
        if claim is not None:
            claim = dataclasses.replace(claim, reservation_id=reservation.id)
        quotas = self._quotas(restaurant, str(command.guest.email), client_address)
        try:
            self._reservations.add_reservation(
                reservation, capacity=restaurant.capacity, idempotency=claim, quotas=quotas
            )
        except QuotaExceeded as exceeded:
            raise TooManyRequests(exceeded.kind, self._seconds_to_midnight(restaurant)) from None
        except IdempotencyKeyTaken:
            assert claim is not None
            replay = self._replay(claim)
            if replay is None:  # claimed and expired between two reads: vanishingly rare
                raise ConcurrentUpdate(
                    "a request with this Idempotency-Key is in progress; retry", field=None
                ) from None
            return replay
        return Booking(reservation, self._manage_token(reservation), replayed=False)

    def availability(self, restaurant_id: str, day: date, party_size: int) -> Availability:
        """The day's seatings and whether a party of `party_size` can book each one now; a
        day already past has none (it may even predate the zone's offsets in whole minutes:
        Paris was UTC+00:09:21 until 1911, off the grid and not an RFC 3339 offset)."""
        restaurant = self._restaurant(restaurant_id)
        check_party_size(restaurant, party_size)
        now = self._clock()
        past = day < now.astimezone(restaurant.zone).date()
        starts = [] if past else seatings(restaurant, day)
        held: dict[datetime, int] = {}
        if starts:
            span_end = starts[-1] + timedelta(minutes=restaurant.dining_minutes)
            held = self._reservations.covers_held(restaurant_id, starts[0], span_end)

        def available(start: datetime) -> bool:
            if not _bookable(restaurant, start, now):
                return False
            cells = occupied_cells(start, restaurant.dining_minutes)
            return all(held.get(cell, 0) + party_size <= restaurant.capacity for cell in cells)

        return Availability(
            restaurant_id,
            day,
            party_size,
            restaurant.timezone,
            tuple(Seating(start, available(start)) for start in starts),
        )

    # -- guests and staff -----------------------------------------------------------------

    def get(self, restaurant_id: str, reservation_id: str) -> Reservation:
        reservation = (
            self._reservations.get_reservation(restaurant_id, reservation_id)
            if is_id(reservation_id) and is_slug(restaurant_id)
            else None
        )
        if reservation is None:
            raise NotFound("reservation", reservation_id, field="reservation_id")
        return reservation

    def manage_token_digest(self, restaurant_id: str, reservation_id: str) -> str | None:
        """For guest authentication: the stored digest of the reservation's manage token."""
        try:
            return self.get(restaurant_id, reservation_id).manage_token_hash
        except NotFound:
            return None

    def cancel(self, restaurant_id: str, reservation_id: str, *, by: str) -> Reservation:
        """Cancel; guests only until the seating time, staff at any time."""

        def guest_deadline(reservation: Reservation) -> None:
            if by == "guest" and reservation.starts_at <= self._clock():
                raise Invalid(
                    "the seating time has passed; please contact the restaurant",
                    field="reservation_id",
                    code="too_late_to_cancel",
                )

        return self._move(
            restaurant_id, reservation_id, Status.CANCELLED, cancelled_by=by, check=guest_deadline
        )

    # -- staff ----------------------------------------------------------------------------

    def accept(self, restaurant_id: str, reservation_id: str) -> Reservation:
        return self._move(restaurant_id, reservation_id, Status.ACCEPTED)

    def decline(self, restaurant_id: str, reservation_id: str, reason: str | None) -> Reservation:
        return self._move(
            restaurant_id,
            reservation_id,
            Status.DECLINED,
            decline_reason=reason,
            declined_by=DECLINED_BY_STAFF,
        )

    def today(self, restaurant_id: str) -> date:
        """The date now at the restaurant."""
        return self._clock().astimezone(self._restaurant(restaurant_id).zone).date()

    def day_sheet(
        self, restaurant_id: str, day: date, statuses: Iterable[Status] = ()
    ) -> list[Reservation]:
        """A day's reservations, by time, optionally only some statuses."""
        self._restaurant(restaurant_id)
        wanted = set(statuses)
        return [
            r
            for r in self._reservations.reservations_on(restaurant_id, day)
            if not wanted or r.status in wanted
        ]

    # -- internals ------------------------------------------------------------------------

    def _restaurant(self, restaurant_id: str) -> Restaurant:
        return find_restaurant(self._restaurants, restaurant_id)

    def _new_reservation(self, restaurant: Restaurant, command: RequestReservation) -> Reservation:
        now = self._clock()
        check_party_size(restaurant, command.party_size)
        starts_at = localize(command.starts_at, restaurant.zone)
        check_booking_window(restaurant, starts_at, now)
        check_seating(restaurant, starts_at)
        reservation_id = new_id()
        return Reservation(
            id=reservation_id,
            restaurant_id=restaurant.id,
            guest=command.guest,
            party_size=command.party_size,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=restaurant.dining_minutes),
            timezone=restaurant.timezone,
            notes=command.notes,
            language=command.language,
            status=Status.PENDING,
            created_at=now,
            updated_at=now,
            version=1,
            correlation_id=correlation.current(),
            answer_by=answer_deadline(now, starts_at, restaurant.response_deadline_hours),
            manage_token_hash=digest(self._tokens.for_reservation(restaurant.id, reservation_id)),
        )

    def _quotas(
        self, restaurant: Restaurant, email: str, client_address: str | None
    ) -> list[RequestQuota]:
        now = self._clock()
        day = now.astimezone(restaurant.zone).date()

        def quota(kind: str, subject: str, limit: int) -> RequestQuota:
            return RequestQuota(restaurant.id, kind, digest(subject), day, limit, now + QUOTA_TTL)

        found = [quota("email", email.lower(), restaurant.max_requests_per_email_per_day)]
        if client_address:
            limit = restaurant.max_requests_per_client_per_day
            found.insert(0, quota("client", client_address, limit))
        return found

    def _seconds_to_midnight(self, restaurant: Restaurant) -> int:
        """Until the restaurant's next local midnight, when the day's quotas restart."""
        now = self._clock().astimezone(restaurant.zone)
        midnight = datetime.combine(now.date() + timedelta(days=1), time(), restaurant.zone)
        left = midnight.astimezone(UTC) - now.astimezone(UTC)  # in UTC: right across DST
        return max(1, math.ceil(left.total_seconds()))

    def _manage_token(self, reservation: Reservation) -> str:
        return self._tokens.for_reservation(reservation.restaurant_id, reservation.id)

    def _idempotency_claim(
        self, restaurant_id: str, command: RequestReservation, key: str | None
    ) -> IdempotencyRecord | None:
        if key is None:
            return None
        if not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY_LENGTH or not key.isprintable():
            raise Invalid(
                f"Idempotency-Key must be 1-{MAX_IDEMPOTENCY_KEY_LENGTH} printable characters",
                field="Idempotency-Key",
            )
        # Without `language` when it is not given, so keys claimed before the field existed
        # still match a retry of the same body.
        body = command.model_dump_json(exclude={"language"} if command.language is None else None)
        fingerprint = hashlib.sha256(body.encode()).hexdigest()
        now = self._clock()
        return IdempotencyRecord(
            restaurant_id=restaurant_id,
            key_digest=digest(key),
            fingerprint=fingerprint,
            reservation_id="",  # set once the reservation exists
            created_at=now,
            expires_at=now + IDEMPOTENCY_TTL,
        )

    def _replay(self, claim: IdempotencyRecord) -> Booking | None:
        """The earlier booking for the same key, None if the key is unused or expired."""
        earlier = self._reservations.get_idempotency(claim.restaurant_id, claim.key_digest)
        if earlier is None or earlier.expires_at < self._clock():
            return None
        if earlier.fingerprint != claim.fingerprint:
            raise IdempotencyKeyReused(
                "this Idempotency-Key was already used with a different request body; "
                "use a new key for a new booking",
                field="Idempotency-Key",
            )
        reservation = self.get(claim.restaurant_id, earlier.reservation_id)
        return Booking(reservation, self._manage_token(reservation), replayed=True)

    def _move(
        self,
        restaurant_id: str,
        reservation_id: str,
        status: Status,
        *,
        check: Callable[[Reservation], None] | None = None,
        decline_reason: str | None = None,
        declined_by: str | None = None,
        cancelled_by: str | None = None,
    ) -> Reservation:

        def attempt() -> Reservation:
            before = self.get(restaurant_id, reservation_id)
            if check is not None:
                check(before)
            after = before.moved_to(
                status,
                now=self._clock(),
                decline_reason=decline_reason,
                declined_by=declined_by,
                cancelled_by=cancelled_by,
                correlation_id=correlation.current(),
            )
            self._reservations.save_transition(before, after)
            return after

        return changed_on_a_fresh_read(attempt)


def find_restaurant(restaurants: RestaurantStore, restaurant_id: str) -> Restaurant:
    """The restaurant, or NotFound (ids that cannot be slugs never reach the store)."""
    found = restaurants.get_restaurant(restaurant_id) if is_slug(restaurant_id) else None
    if found is None:
        raise NotFound("restaurant", restaurant_id, field="restaurant_id")
    return found


def _bookable(restaurant: Restaurant, start: datetime, now: datetime) -> bool:
    try:
        check_booking_window(restaurant, start, now)
    except Invalid:
        return False
    return True
