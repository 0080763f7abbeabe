"""Business events: what happened to a reservation, as published on the event bus.

Past tense, immutable, versioned (`schema_version`). `event_id` is derived from the change
itself (restaurant, reservation, version reached, event type), so the same stream record always
yields the same id and every consumer can deduplicate on it. Contract: docs/events.md.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from chalicelib.domain.reservations import Reservation, Status

SOURCE = "reservations"
SCHEMA_VERSION = 1
_EVENT_NAMESPACE = uuid.UUID("6f1d7c3e-2b8a-4e59-9c1a-5d0b7e4f3a21")
_NAMESPACE_BYTES = _EVENT_NAMESPACE.bytes
# RFC 4122 variant bits over a hex digit's two low bits: 0b10xx.
_VARIANT_DIGIT = "89ab" * 4


class GuestContact(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    email: str
    phone: str | None = None


class ReservationState(BaseModel):
    """The reservation as it is after the change (never the manage token's digest)."""

    model_config = ConfigDict(frozen=True)

    id: str
    restaurant_id: str
    status: Status
    party_size: int
    starts_at: str
    guest: GuestContact
    notes: str | None = None
    decline_reason: str | None = None
    # Added in schema 1 (additive: events published before them lack them, so optional).
    ends_at: str | None = None  # the end of the meal, with the restaurant's offset
    version: int | None = None  # the reservation's version after the change
    language: str | None = None  # the guest's email language, None: the restaurant's
    cancelled_by: str | None = None  # "guest" or "staff", on a cancellation
    declined_by: str | None = None  # "staff" or "deadline" (no answer in time), on a decline
    answer_by: str | None = None  # when an unanswered request is declined (UTC)


class ReservationImage(ReservationState):
    """What the events need of a stored reservation: its state plus the change's version and
    time. Lighter than `Reservation` (emails were validated when the API accepted them)."""

    version: int
    updated_at: str
    correlation_id: str | None = None

    @classmethod
    def of(cls, reservation: Reservation) -> ReservationImage:
        return cls.model_validate(reservation.model_dump(mode="json"))


class BusinessEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    detail_type: ClassVar[str]

    event_id: str
    schema_version: int = SCHEMA_VERSION
    occurred_at: str
    previous_status: Status | None
    reservation: ReservationState
    # The request that made the change (its X-Correlation-Id, or the API's request id).
    correlation_id: str | None = None


class ReservationRequested(BusinessEvent):
    detail_type = "ReservationRequested"


class ReservationAccepted(BusinessEvent):
    detail_type = "ReservationAccepted"


class ReservationDeclined(BusinessEvent):
    detail_type = "ReservationDeclined"


class ReservationCancelled(BusinessEvent):
    detail_type = "ReservationCancelled"


EVENT_FOR_STATUS: dict[Status, type[BusinessEvent]] = {
    Status.PENDING: ReservationRequested,
    Status.ACCEPTED: ReservationAccepted,
    Status.DECLINED: ReservationDeclined,
    Status.CANCELLED: ReservationCancelled,
}


class UnreadableEvent(ValueError):
    """A bus event this version cannot read. Its message names the fields and what is wrong,
    never their values: an event carries a guest's details, and the message is logged (Lambda's
    report of the failed invocation, the timeline's "email failed" step)."""


def event_from_bus(envelope: dict[str, object]) -> BusinessEvent:
    """The business event inside an EventBridge event (as delivered to a rule's target)."""
    kind = {k.detail_type: k for k in EVENT_FOR_STATUS.values()}.get(str(envelope["detail-type"]))
    if kind is None:
        raise ValueError(f"not a reservation event: {envelope['detail-type']!r}")
    return _read(kind, envelope["detail"])


Read = TypeVar("Read", bound=BaseModel)


def _read(kind: type[Read], detail: object) -> Read:
    try:
        return kind.model_validate(detail)
    except ValidationError as error:
        event_id = detail.get("event_id") if isinstance(detail, dict) else None
        problems = field_problems(error)
        raise UnreadableEvent(f"{kind.__name__} {event_id} cannot be read: {problems}") from None


def field_problems(error: ValidationError) -> str:
    """Which fields are wrong and how, never their values (pydantic's own text quotes the
    input, and what events and stream records carry includes a guest's details)."""
    problems = error.errors(include_url=False, include_input=False, include_context=False)
    return "; ".join(
        f"{'.'.join(str(part) for part in problem['loc']) or 'value'}: {problem['msg']}"
        for problem in problems
    )


def event_for_change(
    before: Reservation | ReservationImage | None, after: Reservation | ReservationImage
) -> BusinessEvent | None:
    """The event a change means: a new reservation is requested; a status change is accepted,
    declined or cancelled. A write that leaves the status as it was means nothing."""
    if before is not None and before.status is after.status:
        return None
    image = after if isinstance(after, ReservationImage) else ReservationImage.of(after)
    kind = EVENT_FOR_STATUS[image.status]
    change = f"{image.restaurant_id}/{image.id}/v{image.version}/{kind.detail_type}"
    # kind(...) without its wrapper: the same validation (the stream relay makes one a record).
    event: BusinessEvent = kind.__pydantic_validator__.validate_python(
        {
            "event_id": _event_id(change),
            "occurred_at": image.updated_at,
            "previous_status": None if before is None else before.status,
            "correlation_id": image.correlation_id,
            # Already validated; serialised as a ReservationState (without updated_at).
            "reservation": image,
        }
    )
    return event


def _event_id(change: str) -> str:
    """`str(uuid.uuid5(_EVENT_NAMESPACE, change))`, the same text without building a UUID
    object (a quarter of the time; the stream relay makes one for every record): the SHA-1's
    first 32 hex digits with the version digit set to 5 and the variant bits to 10."""
    h = hashlib.sha1(_NAMESPACE_BYTES + change.encode(), usedforsecurity=False).hexdigest()
    variant = _VARIANT_DIGIT[int(h[16], 16)]
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{variant}{h[17:20]}-{h[20:32]}"


class StaffSignInRequested(BaseModel):
    """Someone asked, on the sign-in page, for a link for an address on a restaurant's staff
    list (asked for an unlisted address, nothing is written and nothing happens). Not about a
    reservation: the staff-notification consumer emails the link."""

    model_config = ConfigDict(frozen=True)

    detail_type: ClassVar[str] = "StaffSignInRequested"

    event_id: str
    schema_version: int = SCHEMA_VERSION
    occurred_at: str
    restaurant_id: str
    email: str  # the listed staff address the link goes to
    correlation_id: str | None = None


def sign_in_requested(
    request_id: str, restaurant_id: str, email: str, at: str, correlation_id: str | None
) -> StaffSignInRequested:
    """The event of one stored sign-in request (its id derived from the request's, so a stream
    record read twice yields the same event)."""
    return StaffSignInRequested(
        event_id=_event_id(f"sign-in/{request_id}"),
        occurred_at=at,
        restaurant_id=restaurant_id,
        email=email,
        correlation_id=correlation_id,
    )


# What the stream relay publishes; the staff queue carries both kinds.
Event = BusinessEvent | StaffSignInRequested


def ordering_key(event: Event) -> str:
    """Events with the same key must reach the bus in stream order (one per PutEvents call)."""
    if isinstance(event, StaffSignInRequested):
        return f"sign-in/{event.event_id}"
    return event.reservation.id


def staff_event_from_bus(envelope: dict[str, object]) -> Event:
    """A reservation event, or a sign-in request (the staff queue's two kinds)."""
    if envelope.get("detail-type") == StaffSignInRequested.detail_type:
        return _read(StaffSignInRequested, envelope["detail"])
    return event_from_bus(envelope)
