"""Reads DynamoDB stream records (as Lambda delivers them) into business events.

With `store_dynamodb`, the only code that knows the table's item layout. Items other than
reservations (occupancy counters, idempotency keys, staff tokens, restaurants, aggregates)
never produce events; the event source mapping filters them out too.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from chalicelib.events import BusinessEvent, event_for_change
from chalicelib.store_dynamodb import reservation_from_item


class UnreadableRecord(Exception):
    """A reservation record the mapper cannot read (a poison record)."""


def is_reservation_change(record: dict[str, Any]) -> bool:
    """The code's own check of the mapping's filter (event_sources.RESERVATION_CHANGES_PATTERN)."""
    images = record.get("dynamodb", {})
    entity = images.get("NewImage", {}).get("entity", {}).get("S")
    return record.get("eventName") in {"INSERT", "MODIFY"} and entity == "reservation"


def event_from_record(record: dict[str, Any]) -> BusinessEvent | None:
    """The business event a stream record carries, None when it carries none."""
    if not is_reservation_change(record):
        return None
    images = record["dynamodb"]
    try:
        before = reservation_from_item(images["OldImage"]) if "OldImage" in images else None
        after = reservation_from_item(images["NewImage"])
    except (ValidationError, KeyError, TypeError, ValueError) as error:
        sequence = images.get("SequenceNumber", "?")
        raise UnreadableRecord(
            f"stream record {sequence} is not a readable reservation: {error}"
        ) from error
    return event_for_change(before, after)
