"""Real stream records from moto, shaped as Lambda delivers them, read into business events."""

from __future__ import annotations

import os
from typing import Any

import pytest

from chalicelib.adapters.stream import (
    UnreadableRecord,
    event_from_record,
    is_reservation_change,
    is_sign_in_request,
)
from chalicelib.domain.events import (
    BusinessEvent,
    ReservationAccepted,
    ReservationRequested,
    StaffSignInRequested,
)
from chalicelib.domain.tokens import ManageTokens
from chalicelib.services.booking import ReservationDesk, RestaurantAdmin
from chalicelib.services.ports import Stores
from chalicelib.services.staff_sessions import SIGN_IN_LINKS_PER_HOUR, StaffSessions
from chalicelib.wiring.event_sources import RESERVATION_CHANGES_PATTERN, SIGN_IN_REQUESTS_PATTERN
from localdev.lambda_shapes import stream_record_as_lambda
from localdev.patterns import matches
from tests.builders import Clock, booking, local, next_weekday, restaurant_spec


def stream_records(aws: Any) -> list[dict[str, Any]]:
    """Everything on the table's stream so far, shaped as Lambda delivers it."""
    table = aws.client("dynamodb").describe_table(TableName=os.environ["TABLE_NAME"])["Table"]
    arn = table["LatestStreamArn"]
    streams = aws.client("dynamodbstreams")
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records += streams.get_records(ShardIterator=iterator)["Records"]
    return [stream_record_as_lambda(r, arn) for r in records]


@pytest.fixture
def desk(dynamo_stores: Stores) -> ReservationDesk:
    clock = Clock()
    admin = RestaurantAdmin(dynamo_stores.restaurants, dynamo_stores.staff_tokens, clock)
    admin.create(restaurant_spec())
    admin.issue_staff_token("chez-test", "desk")
    return ReservationDesk(
        dynamo_stores.restaurants, dynamo_stores.reservations, ManageTokens("k" * 32), clock
    )


def test_book_then_accept_yields_requested_then_accepted(aws: Any, desk: ReservationDesk) -> None:
    wednesday = next_weekday(Clock().now, 2)
    booked = desk.request("chez-test", booking(local(wednesday, "19:30")), idempotency_key="k")
    desk.accept("chez-test", booked.reservation.id)
    records = stream_records(aws)
    assert all(isinstance(r["dynamodb"]["ApproximateCreationDateTime"], int) for r in records)
    assert all(r["eventSourceARN"].startswith("arn:aws:dynamodb:") for r in records)
    events = [e for e in map(event_from_record, records) if e is not None]
    assert [type(e) for e in events] == [ReservationRequested, ReservationAccepted]
    assert {e.reservation.id for e in events if isinstance(e, BusinessEvent)} == {
        booked.reservation.id
    }
    assert [e.event_id for e in map(event_from_record, records) if e] == [
        e.event_id for e in events
    ]  # the same record always yields the same id


def test_bookkeeping_items_never_produce_events(aws: Any, desk: ReservationDesk) -> None:
    wednesday = next_weekday(Clock().now, 2)
    booked = desk.request("chez-test", booking(local(wednesday, "19:30")), idempotency_key="k")
    desk.cancel("chez-test", booked.reservation.id, by="guest")  # releases occupancy cells
    records = stream_records(aws)
    # moto's transactional Update that creates an item first emits an INSERT holding only the
    # keys (DynamoDB emits the whole item once): such records carry no entity at all.
    entities = {r["dynamodb"].get("NewImage", {}).get("entity", {}).get("S") for r in records}
    assert {"restaurant", "staff_token", "occupancy", "idempotency_key"} <= entities
    others = [r for r in records if not is_reservation_change(r)]
    assert others and all(event_from_record(r) is None for r in others)


def test_a_poison_record_is_reported_not_swallowed(aws: Any, desk: ReservationDesk) -> None:
    wednesday = next_weekday(Clock().now, 2)
    desk.request("chez-test", booking(local(wednesday, "19:30")))
    [record] = [r for r in stream_records(aws) if is_reservation_change(r)]
    record["dynamodb"]["NewImage"]["party_size"] = {"S": "lots"}
    with pytest.raises(UnreadableRecord, match="not a readable reservation"):
        event_from_record(record)


def test_a_sign_in_request_becomes_one_event_and_the_limit_holds(
    aws: Any, dynamo_stores: Stores, desk: ReservationDesk
) -> None:
    sessions = StaffSessions(
        dynamo_stores.sessions, dynamo_stores.restaurants, dynamo_stores.staff_tokens, Clock()
    )
    for _ in range(SIGN_IN_LINKS_PER_HOUR + 2):
        sessions.request_link("chez-test", " Staff@Chez-Test.example ")  # listed, any case
    sessions.request_link("chez-test", "stranger@example.com")  # not listed: nothing written
    records = stream_records(aws)
    events = [e for e in map(event_from_record, records) if e is not None]
    assert [type(e) for e in events] == [StaffSignInRequested] * SIGN_IN_LINKS_PER_HOUR
    assert {e.email for e in events if isinstance(e, StaffSignInRequested)} == {
        "staff@chez-test.example"
    }
    assert len({e.event_id for e in events}) == SIGN_IN_LINKS_PER_HOUR
    requests = [r for r in records if is_sign_in_request(r)]
    assert len(requests) == SIGN_IN_LINKS_PER_HOUR
    assert all(matches(SIGN_IN_REQUESTS_PATTERN, r) for r in requests)  # the mapping's filter
    assert not any(matches(SIGN_IN_REQUESTS_PATTERN, r) for r in records if r not in requests)
    assert not any(matches(RESERVATION_CHANGES_PATTERN, r) for r in requests)
