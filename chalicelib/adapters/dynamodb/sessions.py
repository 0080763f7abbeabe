"""Staff sessions: one item each, found by the digest of the cookie's secret, deleted by
DynamoDB's TTL after `expires_at` (and checked against it on every read meanwhile)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalicelib.adapters.dynamodb.table import TableStore, from_item, to_item
from chalicelib.adapters.layout import ENTITY, PK, SK, STAFF_SESSION, staff_session_key
from chalicelib.services.ports import StaffSession


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


def _session(session_digest: str, values: dict[str, Any]) -> StaffSession:
    return StaffSession(
        session_digest=session_digest,
        restaurant_id=values["restaurant_id"],
        staff_emails=tuple(values.get("staff_emails", [])),
        token_digest=values.get("token_digest"),
        csrf_token=values["csrf_token"],
        expires_at=datetime.fromtimestamp(int(values["expires_at"]), UTC),
    )
