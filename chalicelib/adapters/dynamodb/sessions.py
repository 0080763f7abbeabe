"""Staff sessions: one item each, found by the digest of the cookie's secret, deleted by
DynamoDB's TTL after `expires_at` (and checked against it on every read meanwhile)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.adapters.dynamodb.table import TableStore, from_item, to_item, utc_text
from chalicelib.adapters.layout import (
    ENTITY,
    PK,
    SIGN_IN_LIMIT,
    SK,
    STAFF_SESSION,
    STAFF_SIGN_IN_REQUEST,
    sign_in_limit_key,
    sign_in_request_key,
    staff_session_key,
)
from chalicelib.domain.tokens import digest
from chalicelib.services.ports import SignInRequest, StaffSession

SIGN_IN_REQUEST_TTL = timedelta(days=1)  # long enough for the stream to carry it


class DynamoStaffSessions(TableStore):
    """`services.ports.StaffSessionStore` on the table."""

    def add_session(self, session: StaffSession) -> None:
        item = {
            **staff_session_key(session.session_digest),
            ENTITY: STAFF_SESSION,
            "restaurant_id": session.restaurant_id,
            "staff_emails": list(session.staff_emails),
            "token_digest": session.token_digest,
            "csrf_token": session.csrf_token,
            "expires_at": int(session.expires_at.timestamp()),  # the table's TTL attribute
        }
        self._table.client.put_item(TableName=self._table.name, Item=to_item(item))

    def get_session(self, session_digest: str) -> StaffSession | None:
        key = staff_session_key(session_digest)
        item = self._table.get(key[PK], key[SK])
        return None if item is None else _session(session_digest, from_item(item))

    def end_session(self, session_digest: str) -> None:
        self._table.client.delete_item(
            TableName=self._table.name, Key=to_item(staff_session_key(session_digest))
        )

    def add_sign_in_request(self, request: SignInRequest, per_hour: int) -> bool:
        """One transaction: this hour's count for the address (refused at `per_hour`) and the
        request item, whose insert the stream turns into a StaffSignInRequested event."""
        hour = request.requested_at.astimezone(UTC).strftime("%Y-%m-%dT%H")
        expires = int((request.requested_at + SIGN_IN_REQUEST_TTL).timestamp())
        limit_key = sign_in_limit_key(request.restaurant_id, digest(request.email.lower()), hour)
        fields = {
            ENTITY: STAFF_SIGN_IN_REQUEST,
            "request_id": request.request_id,
            "restaurant_id": request.restaurant_id,
            "email": request.email,
            "requested_at": utc_text(request.requested_at),
            "correlation_id": request.correlation_id,
            "expires_at": expires,
        }
        writes: list[Any] = [
            {
                "Update": {
                    "TableName": self._table.name,
                    "Key": to_item(limit_key),
                    "UpdateExpression": "SET #count = if_not_exists(#count, :zero) + :one, "
                    "#entity = :entity, expires_at = :expires",
                    "ConditionExpression": "attribute_not_exists(#count) OR #count < :limit",
                    "ExpressionAttributeNames": {"#count": "count", "#entity": ENTITY},
                    "ExpressionAttributeValues": to_item(
                        {
                            ":zero": 0,
                            ":one": 1,
                            ":limit": per_hour,
                            ":entity": SIGN_IN_LIMIT,
                            ":expires": expires,
                        }
                    ),
                }
            },
            {
                "Put": {
                    "TableName": self._table.name,
                    "Item": to_item({**sign_in_request_key(request.request_id), **fields}),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
        ]
        return self._table.transact(writes) is None


def _session(session_digest: str, values: dict[str, Any]) -> StaffSession:
    return StaffSession(
        session_digest=session_digest,
        restaurant_id=values["restaurant_id"],
        staff_emails=tuple(values.get("staff_emails", [])),
        token_digest=values.get("token_digest"),
        csrf_token=values["csrf_token"],
        expires_at=datetime.fromtimestamp(int(values["expires_at"]), UTC),
    )
