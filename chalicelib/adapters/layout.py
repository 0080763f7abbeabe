"""The single table's item layout, in one place: key attributes, key shapes and the `entity`
marker every item carries. The store writes items by it, the stream decoder and the mapping's
filter read reservation changes and sign-in requests by it, the idempotency records use its
keys.

Kept free of boto3, so the app's import (which builds the mapping's filter) stays light.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

PK, SK = "PK", "SK"
ENTITY = "entity"
# The day index (infra/resources.yaml): a restaurant's reservations of one local date by time.
DAY_INDEX, DAY_PK, DAY_SK = "GSI1", "GSI1PK", "GSI1SK"
# The due index (sparse): reservations with something due at a time carry its keys, in one
# partition per kind of work, sorted by when it is due, then restaurant and id. UNANSWERED:
# PENDING requests by answer deadline (declined unanswered then). GUEST_DETAILS: answered ones
# by seating, until their guest's details are removed (the retention period after it).
DUE_INDEX, DUE_PK, DUE_SK = "GSI2", "GSI2PK", "GSI2SK"
UNANSWERED = "UNANSWERED"
GUEST_DETAILS = "GUEST_DETAILS"

# What `entity` says an item is. Only reservations (and sign-in requests) become events.
RESERVATION = "reservation"
RESTAURANT = "restaurant"
IDEMPOTENCY_KEY = "idempotency_key"  # a client's Idempotency-Key on POST
APPLIED_EVENT = "applied_event"  # "this event was counted" marker for daily totals
STAFF_TOKEN = "staff_token"
OCCUPANCY = "occupancy"  # covers held in one 15-minute grid cell
STAFF_SESSION = "staff_session"  # a signed-in staff browser (expires by TTL)
# A sign-in link asked for by email: inserted, it becomes a StaffSignInRequested event.
STAFF_SIGN_IN_REQUEST = "staff_sign_in_request"
SIGN_IN_LIMIT = "sign_in_limit"  # sign-in links sent to one address in one hour
REQUEST_QUOTA = "request_quota"  # booking requests from one client / for one email in a day
TIMELINE_STEP = "timeline_step"  # what the pipeline did for a reservation (30-day TTL)
DAILY_SUMMARY = "daily_summary"

_CELL_FORMAT = "%Y-%m-%dT%H:%MZ"
_STAFF_TOKEN = "STAFF_TOKEN"


def restaurant_pk(restaurant_id: str) -> str:
    return f"RESTAURANT#{restaurant_id}"


RESTAURANT_SK = "PROFILE"


def reservation_sk(reservation_id: str) -> str:
    return f"RESERVATION#{reservation_id}"


def day_pk(restaurant_id: str, day: date) -> str:
    return f"RESTAURANT#{restaurant_id}#DATE#{day.isoformat()}"


def cell_sk(cell: datetime) -> str:
    return "OCCUPANCY#" + cell.astimezone(UTC).strftime(_CELL_FORMAT)


def cell_from_sk(sk: str) -> datetime:
    return datetime.strptime(sk.removeprefix("OCCUPANCY#"), _CELL_FORMAT).replace(tzinfo=UTC)


def timeline_sk(reservation_id: str, at: str = "", step_id: str = "") -> str:
    """A reservation's timeline steps sort by time; with no time, the prefix of them all."""
    return f"TIMELINE#{reservation_id}#{at}" + (f"#{step_id}" if step_id else "")


def summary_sk(day: date) -> str:
    return f"SUMMARY#{day.isoformat()}"


def idempotency_key_sk(key_digest: str) -> str:
    return f"IDEMPOTENCY#{key_digest}"


def consumer_idempotency_pk(consumer: str) -> str:
    """The partition of a consumer's Powertools idempotency records (no `entity`: the stream
    filter ignores them, so a consumer's own writes never come back as events)."""
    return f"IDEMPOTENCY#{consumer}"


def applied_event_pk(event_id: str) -> str:
    return f"APPLIED#{event_id}"


APPLIED_EVENT_SK = "SUMMARY"


def staff_token_lookup_key(token_digest: str) -> dict[str, str]:
    """Where a staff token is found by its digest (on every staff request)."""
    return {PK: f"{_STAFF_TOKEN}#{token_digest}", SK: _STAFF_TOKEN}


def staff_session_key(session_digest: str) -> dict[str, str]:
    return {PK: f"STAFF_SESSION#{session_digest}", SK: "STAFF_SESSION"}


def sign_in_request_key(request_id: str) -> dict[str, str]:
    return {PK: f"STAFF_SIGN_IN#{request_id}", SK: "STAFF_SIGN_IN"}


def sign_in_limit_key(restaurant_id: str, address_digest: str, hour: str) -> dict[str, str]:
    return {PK: f"SIGN_IN_LIMIT#{restaurant_id}#{address_digest}", SK: hour}


def request_quota_key(
    restaurant_id: str, kind: str, subject_digest: str, day: date
) -> dict[str, str]:
    """A day's count of booking requests from one client address or for one guest email
    (`kind`), by the digest of the address or email: never the address or email itself."""
    return {PK: f"REQUEST_QUOTA#{restaurant_id}#{kind}#{subject_digest}", SK: day.isoformat()}


def staff_token_sk(token_id: str = "") -> str:
    """A restaurant's listing of its tokens; with no id, the prefix of them all."""
    return f"{_STAFF_TOKEN}#{token_id}"
