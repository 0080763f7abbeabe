"""Reads DynamoDB stream records (as Lambda delivers them) into business events.

Reads items by `adapters.layout`, the one description of the table's item layout. Items other than
reservations and staff sign-in requests (occupancy counters, idempotency keys, staff tokens,
sessions, restaurants, aggregates) never produce events; the event source mapping filters them
out too.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from chalicelib.adapters.layout import ENTITY, RESERVATION, STAFF_SIGN_IN_REQUEST
from chalicelib.domain.events import (
    Event,
    ReservationImage,
    event_for_change,
    field_problems,
    sign_in_requested,
)

_IMAGE_FIELDS = tuple(ReservationImage.model_fields)
_CHANGES = frozenset({"INSERT", "MODIFY"})
# ReservationImage.model_validate without its wrapper (the same validation, once per image).
_validate_image = ReservationImage.__pydantic_validator__.validate_python


class UnreadableRecord(Exception):
    """A reservation record the mapper cannot read (a poison record)."""


def is_reservation_change(record: dict[str, Any]) -> bool:
    """The code's own check of the mapping's filter (event_sources.RESERVATION_CHANGES_PATTERN)."""
    images = record.get("dynamodb", {})
    entity = images.get("NewImage", {}).get(ENTITY, {}).get("S")
    return record.get("eventName") in _CHANGES and entity == RESERVATION


def is_sign_in_request(record: dict[str, Any]) -> bool:
    """The code's own check of event_sources.SIGN_IN_REQUESTS_PATTERN."""
    entity = record.get("dynamodb", {}).get("NewImage", {}).get(ENTITY, {}).get("S")
    return record.get("eventName") == "INSERT" and entity == STAFF_SIGN_IN_REQUEST


def event_from_record(record: dict[str, Any]) -> Event | None:
    """The event a stream record carries, None when it carries none."""
    # is_sign_in_request and is_reservation_change, reading the entity once.
    images = record.get("dynamodb", {})
    entity = images.get("NewImage", {}).get(ENTITY, {}).get("S")
    change = record.get("eventName")
    if entity == STAFF_SIGN_IN_REQUEST and change == "INSERT":
        return _sign_in_request(record)
    if entity != RESERVATION or change not in _CHANGES:
        return None
    old_status = images.get("OldImage", {}).get("status")
    if old_status is not None and old_status == images["NewImage"].get("status"):
        # No status change, no event (event_for_change): nor need the images be read. The one
        # such write is a guest's details removed, whose new image has no guest to read.
        return None
    try:
        before = _image(images["OldImage"]) if "OldImage" in images else None
        after = _image(images["NewImage"])
    except (ValidationError, KeyError, TypeError, ValueError) as error:
        sequence = images.get("SequenceNumber", "?")
        raise UnreadableRecord(
            f"stream record {sequence} is not a readable reservation: {_what_is_wrong(error)}"
        ) from None  # the original quotes the record's values
    return event_for_change(before, after)


def _sign_in_request(record: dict[str, Any]) -> Event:
    image = record["dynamodb"]["NewImage"]
    try:
        values = {name: _value(image[name]) for name in ("request_id", "restaurant_id", "email")}
        return sign_in_requested(
            str(values["request_id"]),
            str(values["restaurant_id"]),
            str(values["email"]),
            str(_value(image["requested_at"])),
            _value(image["correlation_id"]) if "correlation_id" in image else None,
        )
    except (KeyError, TypeError, ValueError) as error:
        sequence = record["dynamodb"].get("SequenceNumber", "?")
        raise UnreadableRecord(
            f"stream record {sequence} is not a readable sign-in request: {_what_is_wrong(error)}"
        ) from None  # the original quotes the record's values


def _what_is_wrong(error: Exception) -> str:
    """Which fields are wrong and how, never their values: the reason is logged, and a
    record holds a guest's name, email and phone (pydantic's own text quotes the input)."""
    if isinstance(error, ValidationError):
        return field_problems(error)
    if isinstance(error, KeyError):
        return f"missing {error}"
    return type(error).__name__


def _image(item: dict[str, Any]) -> ReservationImage:
    """Only the fields events carry, decoded and validated (types, required fields)."""
    values: dict[str, Any] = {}
    for name in _IMAGE_FIELDS:
        if name in item:
            # Most of a reservation's attributes are strings: read those here, not in _value.
            [(kind, raw)] = item[name].items()
            values[name] = raw if kind == "S" else _decoded(kind, raw)
    image: ReservationImage = _validate_image(values)
    return image


def _value(attribute: dict[str, Any]) -> Any:
    """A DynamoDB attribute value, for the types this table's reservation items use."""
    [(kind, raw)] = attribute.items()
    return _decoded(kind, raw)


def _decoded(kind: str, raw: Any) -> Any:
    if kind == "S":
        return raw
    if kind == "N":
        return int(raw) if raw.lstrip("-").isdigit() else float(raw)
    if kind == "M":
        values: dict[str, Any] = {}
        for key, attribute in raw.items():
            [(inner_kind, inner_raw)] = attribute.items()  # strings inline, as in _image
            values[key] = inner_raw if inner_kind == "S" else _decoded(inner_kind, inner_raw)
        return values
    if kind == "NULL":
        return None
    if kind == "BOOL":
        return bool(raw)
    if kind == "L":
        return [_value(value) for value in raw]
    raise ValueError(f"unexpected attribute type {kind!r}")
