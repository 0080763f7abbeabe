"""The single-table DynamoDB store (see README "Storage" for the item types and access patterns;
keys and `entity` names come from `adapters.layout`).

Every write that can race is conditional. A booking is one TransactWriteItems: the reservation,
a covers counter per 15-minute grid cell it occupies (each conditioned on staying within
capacity) and its idempotency record.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from chalicelib.adapters.layout import (
    APPLIED_EVENT,
    ENTITY,
    IDEMPOTENCY_KEY,
    PK,
    RESERVATION,
    RESTAURANT,
    SK,
    STAFF_TOKEN,
    applied_event_pk,
    cell_from_sk,
    cell_sk,
    day_pk,
    idempotency_key_sk,
    reservation_sk,
    restaurant_pk,
    staff_token_lookup_key,
    staff_token_sk,
    summary_sk,
)
from chalicelib.domain.errors import AlreadyExists, ConcurrentUpdate, NotFound, SlotFull
from chalicelib.domain.reservations import Reservation
from chalicelib.domain.restaurants import Restaurant, occupied_cells
from chalicelib.services.ports import IdempotencyKeyTaken, IdempotencyRecord, StaffToken

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
TRANSACTION_ATTEMPTS = 5
# How long "this event was applied" is remembered: beyond any redelivery (stream records live
# 24 h, EventBridge retries for 24 h).
APPLIED_EVENT_TTL_SECONDS = 7 * 24 * 3600


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# -- (de)serialisation ----------------------------------------------------------------------


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in values.items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _plain(_deserializer.deserialize(v)) for k, v in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | set):
        return [_plain(v) for v in value]
    return value


def reservation_item(reservation: Reservation) -> dict[str, Any]:
    body = reservation.model_dump(mode="json")
    return to_item(
        {
            **body,
            "PK": restaurant_pk(reservation.restaurant_id),
            "SK": reservation_sk(reservation.id),
            "GSI1PK": day_pk(reservation.restaurant_id, reservation.local_date),
            "GSI1SK": f"{utc_text(reservation.starts_at)}#{reservation.id}",
            ENTITY: RESERVATION,
            "starts_at_utc": utc_text(reservation.starts_at),
        }
    )


def reservation_from_item(item: dict[str, Any]) -> Reservation:
    return Reservation.model_validate(from_item(item))


class DynamoStore:
    """`chalicelib.services.ports.Store` on one DynamoDB table."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    # -- restaurants ------------------------------------------------------------------------

    def add_restaurant(self, restaurant: Restaurant) -> None:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=self._restaurant_item(restaurant),
                ConditionExpression="attribute_not_exists(PK)",
            )
        except ClientError as error:
            if _code(error) == "ConditionalCheckFailedException":
                raise AlreadyExists("restaurant", restaurant.id, field="id") from None
            raise

    def replace_restaurant(self, restaurant: Restaurant) -> None:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=self._restaurant_item(restaurant),
                ConditionExpression="#version = :previous",
                ExpressionAttributeNames={"#version": "version"},
                ExpressionAttributeValues={":previous": {"N": str(restaurant.version - 1)}},
            )
        except ClientError as error:
            if _code(error) == "ConditionalCheckFailedException":
                raise ConcurrentUpdate(
                    "the restaurant was changed meanwhile; fetch it and retry", field="version"
                ) from None
            raise

    def get_restaurant(self, restaurant_id: str) -> Restaurant | None:
        item = self._get(restaurant_pk(restaurant_id), "PROFILE")
        if item is None:
            return None
        return Restaurant.model_validate(_without_keys(from_item(item)))

    @staticmethod
    def _restaurant_item(restaurant: Restaurant) -> dict[str, Any]:
        return to_item(
            {
                **restaurant.model_dump(mode="json"),
                "PK": restaurant_pk(restaurant.id),
                "SK": "PROFILE",
                ENTITY: RESTAURANT,
            }
        )

    # -- reservations -----------------------------------------------------------------------

    def add_reservation(
        self, reservation: Reservation, *, capacity: int, idempotency: IdempotencyRecord | None
    ) -> None:
        cells = occupied_cells(reservation.starts_at, reservation.dining_minutes)
        pk = restaurant_pk(reservation.restaurant_id)
        writes: list[Any] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": reservation_item(reservation),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            }
        ]
        writes += [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": to_item({"PK": pk, "SK": cell_sk(cell)}),
                    "UpdateExpression": "SET #entity = :entity ADD #covers :party",
                    "ConditionExpression": "attribute_not_exists(#covers) OR #covers <= :limit",
                    "ExpressionAttributeNames": {"#entity": ENTITY, "#covers": "covers"},
                    "ExpressionAttributeValues": to_item(
                        {
                            ":entity": "occupancy",
                            ":party": reservation.party_size,
                            ":limit": capacity - reservation.party_size,
                        }
                    ),
                }
            }
            for cell in cells
        ]
        if idempotency is not None:
            writes.append({"Put": self._idempotency_put(idempotency)})
        reasons = self._transact(writes)
        if reasons is None:
            return
        if idempotency is not None and reasons[-1] == "ConditionalCheckFailed":
            raise IdempotencyKeyTaken()
        if any(code == "ConditionalCheckFailed" for code in reasons[1 : 1 + len(cells)]):
            raise SlotFull(reservation.party_size, reservation.starts_at)
        raise ConcurrentUpdate("the reservation could not be stored; retry", field=None)

    def get_reservation(self, restaurant_id: str, reservation_id: str) -> Reservation | None:
        item = self._get(restaurant_pk(restaurant_id), reservation_sk(reservation_id))
        return None if item is None else reservation_from_item(item)

    def save_transition(self, before: Reservation, after: Reservation) -> None:
        put: dict[str, Any] = {
            "TableName": self._table,
            "Item": reservation_item(after),
            "ConditionExpression": "#version = :expected",
            "ExpressionAttributeNames": {"#version": "version"},
            "ExpressionAttributeValues": {":expected": {"N": str(before.version)}},
        }
        writes: list[Any] = [{"Put": put}]
        if before.holds_covers and not after.holds_covers:
            pk = restaurant_pk(before.restaurant_id)
            writes += [
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": to_item({"PK": pk, "SK": cell_sk(cell)}),
                        "UpdateExpression": "ADD #covers :release",
                        "ExpressionAttributeNames": {"#covers": "covers"},
                        "ExpressionAttributeValues": to_item({":release": -before.party_size}),
                    }
                }
                for cell in occupied_cells(before.starts_at, before.dining_minutes)
            ]
        if len(writes) == 1:  # no covers to release: a conditional put costs half a transaction
            try:
                self._client.put_item(**put)
            except ClientError as error:
                if _code(error) == "ConditionalCheckFailedException":
                    raise ConcurrentUpdate(
                        "the reservation changed meanwhile", field="reservation_id"
                    ) from None
                raise
            return
        if self._transact(writes) is not None:
            raise ConcurrentUpdate("the reservation changed meanwhile", field="reservation_id")

    def reservations_on(self, restaurant_id: str, day: date) -> list[Reservation]:
        items = self._query(
            IndexName="GSI1",
            KeyConditionExpression="GSI1PK = :pk",
            ExpressionAttributeValues={":pk": {"S": day_pk(restaurant_id, day)}},
        )
        return [reservation_from_item(item) for item in items]

    def covers_held(
        self, restaurant_id: str, start: datetime, end: datetime
    ) -> dict[datetime, int]:
        items = self._query(
            KeyConditionExpression="PK = :pk AND SK BETWEEN :first AND :last",
            ExpressionAttributeValues=to_item(
                {
                    ":pk": restaurant_pk(restaurant_id),
                    ":first": cell_sk(start),
                    ":last": cell_sk(end - timedelta(minutes=1)),
                }
            ),
        )
        return {cell_from_sk(item["SK"]["S"]): int(item["covers"]["N"]) for item in items}

    # -- idempotency keys -------------------------------------------------------------------

    def _idempotency_put(self, record: IdempotencyRecord) -> dict[str, Any]:
        return {
            "TableName": self._table,
            "Item": to_item(
                {
                    "PK": restaurant_pk(record.restaurant_id),
                    "SK": idempotency_key_sk(record.key_digest),
                    ENTITY: IDEMPOTENCY_KEY,
                    "fingerprint": record.fingerprint,
                    "reservation_id": record.reservation_id,
                    "created_at": record.created_at.isoformat(),
                    "expires_at": int(record.expires_at.timestamp()),
                }
            ),
            # A key whose record outlived its TTL (DynamoDB deletes lazily) may be reused.
            "ConditionExpression": "attribute_not_exists(PK) OR expires_at < :now",
            "ExpressionAttributeValues": {":now": {"N": str(int(record.created_at.timestamp()))}},
        }

    def get_idempotency(self, restaurant_id: str, key_digest: str) -> IdempotencyRecord | None:
        item = self._get(restaurant_pk(restaurant_id), idempotency_key_sk(key_digest))
        if item is None:
            return None
        values = from_item(item)
        return IdempotencyRecord(
            restaurant_id=restaurant_id,
            key_digest=key_digest,
            fingerprint=values["fingerprint"],
            reservation_id=values["reservation_id"],
            created_at=datetime.fromisoformat(values["created_at"]),
            expires_at=datetime.fromtimestamp(values["expires_at"], UTC),
        )

    # -- daily summaries (stream-maintained totals) ----------------------------------------

    def apply_to_summary(
        self, restaurant_id: str, day: date, event_id: str, changes: dict[str, int]
    ) -> bool:
        names = {f"#c{i}": name for i, name in enumerate(changes)}
        values = {f":c{i}": {"N": str(delta)} for i, delta in enumerate(changes.values())}
        adds = ", ".join(f"#c{i} :c{i}" for i in range(len(changes)))
        writes: list[Any] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_item(
                        {
                            "PK": applied_event_pk(event_id),
                            "SK": "SUMMARY",
                            ENTITY: APPLIED_EVENT,
                            "expires_at": int(time.time()) + APPLIED_EVENT_TTL_SECONDS,
                        }
                    ),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
            {
                "Update": {
                    "TableName": self._table,
                    "Key": to_item({"PK": restaurant_pk(restaurant_id), "SK": summary_sk(day)}),
                    "UpdateExpression": f"SET #entity = :entity ADD {adds}",
                    "ExpressionAttributeNames": {"#entity": ENTITY, **names},
                    "ExpressionAttributeValues": {":entity": {"S": "daily_summary"}, **values},
                }
            },
        ]
        reasons = self._transact(writes)
        if reasons is None:
            return True
        if reasons[0] == "ConditionalCheckFailed":
            return False
        raise ConcurrentUpdate("the summary could not be updated; retry", field=None)

    def daily_summary(self, restaurant_id: str, day: date) -> dict[str, int]:
        item = self._get(restaurant_pk(restaurant_id), summary_sk(day))
        if item is None:
            return {}
        values = from_item(item)
        return {k: int(v) for k, v in values.items() if isinstance(v, int)}

    # -- staff tokens -----------------------------------------------------------------------

    def add_staff_token(self, token: StaffToken) -> None:
        fields = {
            "token_id": token.token_id,
            "restaurant_id": token.restaurant_id,
            "label": token.label,
            "token_digest": token.token_digest,
            "created_at": token.created_at.isoformat(),
        }
        lookup = staff_token_lookup_key(token.token_digest)
        listing = {"PK": restaurant_pk(token.restaurant_id), "SK": staff_token_sk(token.token_id)}
        writes: list[Any] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_item({**fields, **keys, ENTITY: STAFF_TOKEN}),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            }
            for keys in (lookup, listing)
        ]
        if self._transact(writes) is not None:
            raise ConcurrentUpdate("the token could not be stored; retry", field=None)

    def find_staff_token(self, token_digest: str) -> StaffToken | None:
        lookup = staff_token_lookup_key(token_digest)
        item = self._get(lookup[PK], lookup[SK])
        return None if item is None else _staff_token(item)

    def staff_tokens(self, restaurant_id: str) -> list[StaffToken]:
        items = self._query(
            KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
            ExpressionAttributeValues=to_item(
                {":pk": restaurant_pk(restaurant_id), ":prefix": staff_token_sk()}
            ),
        )
        return [_staff_token(item) for item in items]

    def revoke_staff_token(self, restaurant_id: str, token_id: str) -> None:
        listing = self._get(restaurant_pk(restaurant_id), staff_token_sk(token_id))
        if listing is None:
            raise NotFound("staff token", token_id, field="token_id")
        token = _staff_token(listing)
        keys = [
            staff_token_lookup_key(token.token_digest),
            {"PK": restaurant_pk(restaurant_id), "SK": staff_token_sk(token_id)},
        ]
        writes: list[Any] = [
            {"Delete": {"TableName": self._table, "Key": to_item(key)}} for key in keys
        ]
        if self._transact(writes) is not None:
            raise ConcurrentUpdate("the token could not be revoked; retry", field=None)

    # -- plumbing ---------------------------------------------------------------------------

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        response = self._client.get_item(
            TableName=self._table, Key=to_item({"PK": pk, "SK": sk}), ConsistentRead=True
        )
        return response.get("Item")

    def _query(self, **params: Any) -> Iterator[dict[str, Any]]:
        paginator = self._client.get_paginator("query")
        for page in paginator.paginate(TableName=self._table, **params):
            yield from page.get("Items", [])

    def _transact(self, writes: list[Any]) -> list[str] | None:
        """Run a transaction; None on success, else the per-item cancellation codes.

        TransactionConflict (another transaction on the same items) is retried with jittered
        backoff; a condition failure is returned for the caller to explain.
        """
        for attempt in range(TRANSACTION_ATTEMPTS):
            try:
                self._client.transact_write_items(TransactItems=writes)
                return None
            except ClientError as error:
                if _code(error) != "TransactionCanceledException":
                    raise
                codes = [
                    r.get("Code", "None") for r in error.response.get("CancellationReasons", [])
                ]
                if "ConditionalCheckFailed" in codes or attempt == TRANSACTION_ATTEMPTS - 1:
                    return codes or ["Unknown"]
                time.sleep(random.uniform(0, 0.02 * 2**attempt))
        return ["Unknown"]  # pragma: no cover - the loop always returns


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _without_keys(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k not in {PK, SK, ENTITY}}


def _staff_token(item: dict[str, Any]) -> StaffToken:
    values = from_item(item)
    return StaffToken(
        token_id=values["token_id"],
        restaurant_id=values["restaurant_id"],
        label=values["label"],
        token_digest=values["token_digest"],
        created_at=datetime.fromisoformat(values["created_at"]),
    )
