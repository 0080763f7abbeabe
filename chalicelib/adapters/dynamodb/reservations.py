"""Reservations on the table, with the capacity grid and the clients' idempotency keys.

A booking is one TransactWriteItems: the reservation, a covers counter per 15-minute grid
cell it occupies (each conditioned on staying within capacity) and its idempotency record.
Every write that can race is conditional.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from chalicelib.adapters.dynamodb.table import (
    TableStore,
    from_item,
    to_item,
    utc_text,
)
from chalicelib.adapters.layout import (
    DAY_INDEX,
    DAY_PK,
    DAY_SK,
    DUE_INDEX,
    DUE_PK,
    DUE_SK,
    ENTITY,
    GUEST_DETAILS,
    IDEMPOTENCY_KEY,
    OCCUPANCY,
    REQUEST_QUOTA,
    RESERVATION,
    UNANSWERED,
    cell_from_sk,
    cell_sk,
    day_pk,
    idempotency_key_sk,
    request_quota_key,
    reservation_sk,
    restaurant_pk,
)
from chalicelib.domain.booking_rules import occupied_cells
from chalicelib.domain.errors import ConcurrentUpdate, SlotFull
from chalicelib.domain.reservations import Reservation, Status
from chalicelib.services.ports import (
    IdempotencyKeyTaken,
    IdempotencyRecord,
    QuotaExceeded,
    RequestQuota,
)


def reservation_item(reservation: Reservation) -> dict[str, Any]:
    body = reservation.model_dump(mode="json")
    if reservation.answer_by is not None:
        body["answer_by"] = utc_text(reservation.answer_by)
    return to_item(
        {
            **body,
            "PK": restaurant_pk(reservation.restaurant_id),
            "SK": reservation_sk(reservation.id),
            DAY_PK: day_pk(reservation.restaurant_id, reservation.local_date),
            DAY_SK: f"{utc_text(reservation.starts_at)}#{reservation.id}",
            ENTITY: RESERVATION,
            "starts_at_utc": utc_text(reservation.starts_at),
            **due_keys(reservation),
        }
    )


def due_keys(reservation: Reservation) -> dict[str, str]:
    """Its place in the due index: while PENDING, under its answer deadline; answered, under
    its seating until its guest's details are removed. Every write puts the whole item, so the
    keys move with the status, and an item whose details are gone leaves the index. (`python
    -m ops reindex` gives the keys to items stored before the index held answered ones.)"""
    suffix = f"#{reservation.restaurant_id}#{reservation.id}"
    if reservation.status is Status.PENDING and reservation.answer_by is not None:
        return {DUE_PK: UNANSWERED, DUE_SK: _sortable(reservation.answer_by) + suffix}
    if reservation.guest is None:
        return {}
    return {DUE_PK: GUEST_DETAILS, DUE_SK: _sortable(reservation.starts_at) + suffix}


def _sortable(moment: datetime) -> str:
    """Fixed-width UTC text: sorts as time does."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def reservation_from_item(item: dict[str, Any]) -> Reservation:
    return Reservation.model_validate(from_item(item))


class DynamoReservations(TableStore):
    """`services.ports.ReservationStore` on the table."""

    def add_reservation(
        self,
        reservation: Reservation,
        *,
        capacity: int,
        idempotency: IdempotencyRecord | None,
        quotas: Sequence[RequestQuota] = (),
    ) -> None:
        cells = occupied_cells(reservation.starts_at, reservation.dining_minutes)
        pk = restaurant_pk(reservation.restaurant_id)
        writes: list[Any] = [
            {
                "Put": {
                    "TableName": self._table.name,
                    "Item": reservation_item(reservation),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            }
        ]
        writes += [
            {
                "Update": {
                    "TableName": self._table.name,
                    "Key": to_item({"PK": pk, "SK": cell_sk(cell)}),
                    "UpdateExpression": "SET #entity = :entity ADD #covers :party",
                    "ConditionExpression": "attribute_not_exists(#covers) OR #covers <= :limit",
                    "ExpressionAttributeNames": {"#entity": ENTITY, "#covers": "covers"},
                    "ExpressionAttributeValues": to_item(
                        {
                            ":entity": OCCUPANCY,
                            ":party": reservation.party_size,
                            ":limit": capacity - reservation.party_size,
                        }
                    ),
                }
            }
            for cell in cells
        ]
        writes += [{"Update": self._quota_update(quota)} for quota in quotas]
        if idempotency is not None:
            writes.append({"Put": self._idempotency_put(idempotency)})
        reasons = self._table.transact(writes)
        if reasons is None:
            return
        failed = [code == "ConditionalCheckFailed" for code in reasons]
        if idempotency is not None and failed[-1]:
            raise IdempotencyKeyTaken()
        quota_failed = failed[1 + len(cells) : 1 + len(cells) + len(quotas)]
        for quota, refused in zip(quotas, quota_failed, strict=True):
            if refused:
                raise QuotaExceeded(quota.kind)
        if any(failed[1 : 1 + len(cells)]):
            raise SlotFull(reservation.party_size, reservation.starts_at)
        raise ConcurrentUpdate("the reservation could not be stored; retry", field=None)

    def get_reservation(self, restaurant_id: str, reservation_id: str) -> Reservation | None:
        item = self._table.get(restaurant_pk(restaurant_id), reservation_sk(reservation_id))
        return None if item is None else reservation_from_item(item)

    def save_transition(self, before: Reservation, after: Reservation) -> None:
        item = reservation_item(after)
        unchanged = {
            "ConditionExpression": "#version = :expected",
            "ExpressionAttributeNames": {"#version": "version"},
            "ExpressionAttributeValues": {":expected": {"N": str(before.version)}},
        }
        if not (before.holds_covers and not after.holds_covers):
            # no covers to release: a conditional put costs half a transaction
            saved = self._table.put_if(item, **unchanged)
        else:
            pk = restaurant_pk(before.restaurant_id)
            put = {"TableName": self._table.name, "Item": item, **unchanged}
            writes: list[Any] = [{"Put": put}]
            writes += [
                {
                    "Update": {
                        "TableName": self._table.name,
                        "Key": to_item({"PK": pk, "SK": cell_sk(cell)}),
                        "UpdateExpression": "ADD #covers :release",
                        "ExpressionAttributeNames": {"#covers": "covers"},
                        "ExpressionAttributeValues": to_item({":release": -before.party_size}),
                    }
                }
                for cell in occupied_cells(before.starts_at, before.dining_minutes)
            ]
            saved = self._table.transact(writes) is None
        if not saved:
            raise ConcurrentUpdate("the reservation changed meanwhile", field="reservation_id")

    def reservations_on(self, restaurant_id: str, day: date) -> list[Reservation]:
        items = self._table.query(
            IndexName=DAY_INDEX,
            KeyConditionExpression=f"{DAY_PK} = :pk",
            ExpressionAttributeValues={":pk": {"S": day_pk(restaurant_id, day)}},
        )
        return [reservation_from_item(item) for item in items]

    def unanswered_by(self, now: datetime, limit: int) -> list[Reservation]:
        return self._due(UNANSWERED, now, limit)

    def with_guest_details_seated_by(self, moment: datetime, limit: int) -> list[Reservation]:
        return self._due(GUEST_DETAILS, moment, limit)

    def _due(self, kind: str, until: datetime, limit: int) -> list[Reservation]:
        # "~" sorts after any "#restaurant#id" suffix of a moment at `until` exactly.
        response = self._table.client.query(
            TableName=self._table.name,
            IndexName=DUE_INDEX,
            KeyConditionExpression=f"{DUE_PK} = :pk AND {DUE_SK} <= :until",
            ExpressionAttributeValues=to_item({":pk": kind, ":until": _sortable(until) + "~"}),
            Limit=limit,
        )
        return [reservation_from_item(item) for item in response.get("Items", [])]

    def covers_held(
        self, restaurant_id: str, start: datetime, end: datetime
    ) -> dict[datetime, int]:
        items = self._table.query(
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

    def _quota_update(self, quota: RequestQuota) -> dict[str, Any]:
        """Count one request, unless the day's count is at the limit already."""
        key = request_quota_key(quota.restaurant_id, quota.kind, quota.subject_digest, quota.day)
        return {
            "TableName": self._table.name,
            "Key": to_item(key),
            "UpdateExpression": "SET #entity = :entity, expires_at = :expires ADD #count :one",
            "ConditionExpression": "attribute_not_exists(#count) OR #count < :limit",
            "ExpressionAttributeNames": {"#entity": ENTITY, "#count": "count"},
            "ExpressionAttributeValues": to_item(
                {
                    ":entity": REQUEST_QUOTA,
                    ":expires": int(quota.expires_at.timestamp()),
                    ":one": 1,
                    ":limit": quota.limit,
                }
            ),
        }

    def _idempotency_put(self, record: IdempotencyRecord) -> dict[str, Any]:
        return {
            "TableName": self._table.name,
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
        item = self._table.get(restaurant_pk(restaurant_id), idempotency_key_sk(key_digest))
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
