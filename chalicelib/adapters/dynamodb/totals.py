"""Daily totals, kept by the summary consumer: a counter item per restaurant and day, and an
"applied" marker per event so a redelivered event is counted once."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from chalicelib.adapters.dynamodb.table import TableStore, from_item, to_item
from chalicelib.adapters.layout import (
    APPLIED_EVENT,
    APPLIED_EVENT_SK,
    DAILY_SUMMARY,
    ENTITY,
    applied_event_pk,
    restaurant_pk,
    summary_sk,
)
from chalicelib.domain.errors import ConcurrentUpdate

# How long "this event was applied" is remembered: beyond any redelivery (stream records live
# 24 h, EventBridge retries for 24 h).
APPLIED_EVENT_TTL_SECONDS = 7 * 24 * 3600


class DynamoDailyTotals(TableStore):
    """`services.ports.DailyTotalStore` on the table."""

    def apply_to_summary(
        self, restaurant_id: str, day: date, event_id: str, changes: dict[str, int]
    ) -> bool:
        names = {f"#c{i}": name for i, name in enumerate(changes)}
        values = {f":c{i}": {"N": str(delta)} for i, delta in enumerate(changes.values())}
        adds = ", ".join(f"#c{i} :c{i}" for i in range(len(changes)))
        writes: list[Any] = [
            {
                "Put": {
                    "TableName": self._table.name,
                    "Item": to_item(
                        {
                            "PK": applied_event_pk(event_id),
                            "SK": APPLIED_EVENT_SK,
                            ENTITY: APPLIED_EVENT,
                            "expires_at": int(time.time()) + APPLIED_EVENT_TTL_SECONDS,
                        }
                    ),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
            {
                "Update": {
                    "TableName": self._table.name,
                    "Key": to_item({"PK": restaurant_pk(restaurant_id), "SK": summary_sk(day)}),
                    "UpdateExpression": f"SET #entity = :entity ADD {adds}",
                    "ExpressionAttributeNames": {"#entity": ENTITY, **names},
                    "ExpressionAttributeValues": {":entity": {"S": DAILY_SUMMARY}, **values},
                }
            },
        ]
        reasons = self._table.transact(writes)
        if reasons is None:
            return True
        if reasons[0] == "ConditionalCheckFailed":
            return False
        raise ConcurrentUpdate("the summary could not be updated; retry", field=None)

    def daily_summary(self, restaurant_id: str, day: date) -> dict[str, int]:
        item = self._table.get(restaurant_pk(restaurant_id), summary_sk(day))
        if item is None:
            return {}
        values = from_item(item)
        return {k: int(v) for k, v in values.items() if isinstance(v, int)}
