"""Staff tokens: two items each, written and deleted together: a lookup by the token's digest
(read on every staff request) and the restaurant's listing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.adapters.dynamodb.table import TableStore, from_item, to_item
from chalicelib.adapters.layout import (
    ENTITY,
    PK,
    SK,
    STAFF_TOKEN,
    restaurant_pk,
    staff_token_lookup_key,
    staff_token_sk,
)
from chalicelib.domain.errors import ConcurrentUpdate, NotFound
from chalicelib.services.ports import StaffToken


class DynamoStaffTokens(TableStore):
    """`services.ports.StaffTokenStore` on the table."""

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
                    "TableName": self._table.name,
                    "Item": to_item({**fields, **keys, ENTITY: STAFF_TOKEN}),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            }
            for keys in (lookup, listing)
        ]
        if self._table.transact(writes) is not None:
            raise ConcurrentUpdate("the token could not be stored; retry", field=None)

    def find_staff_token(self, token_digest: str) -> StaffToken | None:
        lookup = staff_token_lookup_key(token_digest)
        item = self._table.get(lookup[PK], lookup[SK])
        return None if item is None else _staff_token(item)

    def staff_tokens(self, restaurant_id: str) -> list[StaffToken]:
        items = self._table.query(
            KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
            ExpressionAttributeValues=to_item(
                {":pk": restaurant_pk(restaurant_id), ":prefix": staff_token_sk()}
            ),
        )
        return [_staff_token(item) for item in items]

    def revoke_staff_token(self, restaurant_id: str, token_id: str) -> None:
        listing = self._table.get(restaurant_pk(restaurant_id), staff_token_sk(token_id))
        if listing is None:
            raise NotFound("staff token", token_id, field="token_id")
        token = _staff_token(listing)
        keys = [
            staff_token_lookup_key(token.token_digest),
            {"PK": restaurant_pk(restaurant_id), "SK": staff_token_sk(token_id)},
        ]
        writes: list[Any] = [
            {"Delete": {"TableName": self._table.name, "Key": to_item(key)}} for key in keys
        ]
        if self._table.transact(writes) is not None:
            raise ConcurrentUpdate("the token could not be revoked; retry", field=None)


def _staff_token(item: dict[str, Any]) -> StaffToken:
    values = from_item(item)
    return StaffToken(
        token_id=values["token_id"],
        restaurant_id=values["restaurant_id"],
        label=values["label"],
        token_digest=values["token_digest"],
        created_at=datetime.fromisoformat(values["created_at"]),
    )
