"""Reservations: the guest's request, the stored reservation and its status machine."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from chalicelib.domain.contact import Language, e164, mailable, no_control_characters
from chalicelib.domain.errors import Conflict, InvalidTransition


class Status(StrEnum):
    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    CANCELLED = "CANCELLED"


# Allowed transitions; anything else is a 409 naming the current status.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.PENDING: frozenset({Status.ACCEPTED, Status.DECLINED, Status.CANCELLED}),
    Status.ACCEPTED: frozenset({Status.CANCELLED}),
    Status.DECLINED: frozenset(),
    Status.CANCELLED: frozenset(),
}
# Statuses whose covers count against capacity.
HOLDS_COVERS = frozenset({Status.PENDING, Status.ACCEPTED})

# Who declined a request (`Reservation.declined_by`): staff, or its answer deadline passing.
DECLINED_BY_STAFF = "staff"
DECLINED_BY_DEADLINE = "deadline"
NO_ANSWER_REASON = "no answer in time"
# Who removed a guest's details (`Reservation.guest_details_removed_by`): the guest (manage page
# or API), staff (API), or the retention period passing (services.guest_details).
REMOVED_BY_RETENTION = "retention"


def answer_deadline(requested_at: datetime, starts_at: datetime, hours: int) -> datetime:
    """When staff must have answered a request (UTC): `hours` after it was made, and never
    later than its seating (a request made late for an early seating expires at the seating)."""
    return min(requested_at + timedelta(hours=hours), starts_at).astimezone(UTC)


class Guest(BaseModel):
    # A NewGuest stored in a Reservation becomes a plain Guest (compares equal once read back).
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        str_strip_whitespace=True,
        revalidate_instances="subclass-instances",
    )

    name: Annotated[str, Field(min_length=1, max_length=100)]
    email: EmailStr
    phone: str | None = None

    @field_validator("name")
    @classmethod
    def _printable_name(cls, value: str) -> str:
        return no_control_characters(value, allow_newlines=False)

    @field_validator("phone")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        return None if value is None else e164(value)


class NewGuest(Guest):
    """The guest of a new request: their address must be one mail can be delivered to (not
    checked on `Guest`, so reservations stored before still load)."""

    @field_validator("email")
    @classmethod
    def _mailable(cls, value: str) -> str:
        return mailable(value)


class RequestReservation(BaseModel):
    """A guest's request for a table (body of POST /restaurants/{id}/reservations)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    guest: NewGuest
    party_size: Annotated[int, Field(strict=True, ge=1, le=1000)]
    starts_at: datetime
    notes: Annotated[str | None, Field(max_length=500)] = None
    # The language the guest's emails are written in; None: the restaurant's `locale`.
    language: Language | None = None

    @field_validator("starts_at", mode="before")
    @classmethod
    def _iso_8601(cls, value: Any) -> datetime:
        if not isinstance(value, str):
            raise ValueError("must be an ISO 8601 date and time string, e.g. 2026-12-24T19:30")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(
                "must be an ISO 8601 date and time, e.g. 2026-12-24T19:30 or "
                "2026-12-24T19:30:00+01:00"
            ) from None
        if "T" not in value.upper() and " " not in value:
            raise ValueError("needs a time of day, e.g. 2026-12-24T19:30")
        return parsed

    @field_validator("notes")
    @classmethod
    def _clean_notes(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        return no_control_characters(value, allow_newlines=True) or None


class Reservation(BaseModel):
    """A stored reservation. `starts_at` carries the restaurant's offset; `starts_at_utc` is the
    same instant in UTC (what sorts and what capacity is counted on)."""

    model_config = ConfigDict(frozen=True)

    id: str
    restaurant_id: str
    # None once the guest's details are removed (with `notes` and `decline_reason`): the
    # counts stay (party size, time, status), the person does not.
    guest: Guest | None = None
    party_size: int
    starts_at: datetime
    ends_at: datetime
    timezone: str
    notes: str | None = None
    status: Status = Status.PENDING
    created_at: datetime
    updated_at: datetime
    version: int = 1
    decline_reason: str | None = None
    declined_by: str | None = None  # DECLINED_BY_STAFF or DECLINED_BY_DEADLINE, on a decline
    cancelled_by: str | None = None
    # While PENDING: when it is declined unanswered (None: requested before deadlines existed).
    answer_by: datetime | None = None
    manage_token_hash: str
    correlation_id: str | None = None  # of the request that made this version
    language: Language | None = None  # of the guest's emails (None: the restaurant's locale)
    guest_details_removed_at: datetime | None = None
    guest_details_removed_by: str | None = None  # "guest", "staff" or REMOVED_BY_RETENTION

    @property
    def starts_at_utc(self) -> datetime:
        return self.starts_at.astimezone(UTC)

    @property
    def local_date(self) -> date:
        return self.starts_at.date()

    def unanswered_at(self, now: datetime) -> bool:
        """Still PENDING once its answer deadline has come."""
        return (
            self.status is Status.PENDING and self.answer_by is not None and self.answer_by <= now
        )

    def is_over(self, now: datetime) -> bool:
        """Nothing more will happen at the table: declined, cancelled, or its meal has ended.
        (A request still waiting for its seating is not over: cancelled first, it is.)"""
        return self.status in (Status.DECLINED, Status.CANCELLED) or self.ends_at <= now

    @property
    def guest_details_removed(self) -> bool:
        return self.guest is None

    def without_guest_details(
        self, *, now: datetime, by: str, correlation_id: str | None = None
    ) -> Reservation:
        """The reservation with the guest's name, email, phone, notes and the reason written to
        them removed; what it counts for (party, time, status) kept. Only once it is over."""
        if not self.is_over(now):
            raise Conflict(
                "the guest's details can be removed once the reservation is over: after its "
                "seating, or once it is cancelled or declined",
                field="reservation_id",
                code="reservation_not_over",
            )
        return self.model_copy(
            update={
                "guest": None,
                "notes": None,
                "decline_reason": None,
                "updated_at": now,
                "version": self.version + 1,
                "guest_details_removed_at": now,
                "guest_details_removed_by": by,
                "correlation_id": correlation_id,
            }
        )

    @property
    def holds_covers(self) -> bool:
        return self.status in HOLDS_COVERS

    @property
    def dining_minutes(self) -> int:
        return int((self.ends_at - self.starts_at) / timedelta(minutes=1))

    def moved_to(
        self,
        status: Status,
        *,
        now: datetime,
        decline_reason: str | None = None,
        declined_by: str | None = None,
        cancelled_by: str | None = None,
        correlation_id: str | None = None,
    ) -> Reservation:
        """The reservation after a status change, or InvalidTransition (409); none once the
        guest's details are removed (there is nobody left to tell)."""
        if self.guest is None:
            raise Conflict(
                "this reservation's guest details were removed; it can no longer change",
                field="reservation_id",
                code="guest_details_removed",
            )
        if status not in TRANSITIONS[self.status]:
            raise InvalidTransition(self.status.value, status.value)
        return self.model_copy(
            update={
                "status": status,
                "updated_at": now,
                "version": self.version + 1,
                "decline_reason": decline_reason,
                "declined_by": declined_by,
                "cancelled_by": cancelled_by,
                "correlation_id": correlation_id,
            }
        )

    def public(self) -> dict[str, Any]:
        """The view guests and staff get (never the token hash)."""
        body = self.model_dump(mode="json", exclude={"manage_token_hash"})
        body["starts_at_utc"] = self.starts_at_utc.isoformat().replace("+00:00", "Z")
        return body


class DeclineReservation(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    reason: Annotated[str | None, Field(max_length=500)] = None

    @field_validator("reason")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return no_control_characters(value, allow_newlines=True) or None
