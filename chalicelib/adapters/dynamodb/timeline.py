"""Each reservation's timeline: what the pipeline did for it, as items next to it (30-day TTL).
The items carry `entity = timeline_step`, which the stream mapping's filter drops: writing
them never produces events (no recursion)."""

from __future__ import annotations

import time
from typing import Any

from chalicelib.adapters.dynamodb.table import TableStore, from_item, to_item
from chalicelib.adapters.layout import ENTITY, PK, SK, TIMELINE_STEP, restaurant_pk, timeline_sk
from chalicelib.services.ports import PERSONAL_STEP_DETAILS, TimelineStep

TIMELINE_TTL_SECONDS = 30 * 24 * 3600


class DynamoTimeline(TableStore):
    """`services.ports.TimelineStore` on the table."""

    def add_steps(self, steps: list[TimelineStep]) -> None:
        expires = int(time.time()) + TIMELINE_TTL_SECONDS
        for start in range(0, len(steps), 25):  # BatchWriteItem takes 25 at a time
            requests: dict[str, Any] = {
                self._table.name: [
                    {"PutRequest": {"Item": _item(step, expires)}}
                    for step in steps[start : start + 25]
                ]
            }
            for _ in range(5):
                unprocessed = self._table.client.batch_write_item(RequestItems=requests).get(
                    "UnprocessedItems", {}
                )
                if not unprocessed:
                    break
                requests = unprocessed
                time.sleep(0.05)
            else:
                raise RuntimeError("timeline steps could not be written; the caller retries")

    def steps(self, restaurant_id: str, reservation_id: str) -> list[TimelineStep]:
        items = self._table.query(
            KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
            ExpressionAttributeValues=to_item(
                {":pk": restaurant_pk(restaurant_id), ":prefix": timeline_sk(reservation_id)}
            ),
        )
        return [_step(from_item(item)) for item in items]

    def remove_personal_details(self, restaurant_id: str, reservation_id: str) -> int:
        changed = 0
        for step in self.steps(restaurant_id, reservation_id):
            personal = [name for name in PERSONAL_STEP_DETAILS if name in step.details]
            if not personal:
                continue
            names = {f"#d{i}": name for i, name in enumerate(personal)}
            try:
                self._table.client.update_item(
                    TableName=self._table.name,
                    Key=to_item(
                        {
                            PK: restaurant_pk(restaurant_id),
                            SK: timeline_sk(reservation_id, step.at, step.step_id),
                        }
                    ),
                    UpdateExpression="REMOVE " + ", ".join(f"details.{n}" for n in names),
                    # A step its TTL deleted meanwhile is not written back as a bare key.
                    ConditionExpression="attribute_exists(PK)",
                    ExpressionAttributeNames=names,
                )
            except self._table.client.exceptions.ConditionalCheckFailedException:
                continue
            changed += 1
        return changed


def _item(step: TimelineStep, expires: int) -> dict[str, Any]:
    # Written as attribute values directly, all strings but expires_at (the relay writes one
    # step per event, and boto3's TypeSerializer was over half of the stream handler's time).
    return {
        PK: {"S": restaurant_pk(step.restaurant_id)},
        SK: {"S": timeline_sk(step.reservation_id, step.at, step.step_id)},
        ENTITY: {"S": TIMELINE_STEP},
        "reservation_id": {"S": step.reservation_id},
        "restaurant_id": {"S": step.restaurant_id},
        "at": {"S": step.at},
        "what": {"S": step.what},
        "step_id": {"S": step.step_id},
        "details": {"M": {name: {"S": value} for name, value in step.details.items()}},
        "expires_at": {"N": str(expires)},
    }


def _step(values: dict[str, Any]) -> TimelineStep:
    return TimelineStep(
        reservation_id=values["reservation_id"],
        restaurant_id=values["restaurant_id"],
        at=values["at"],
        what=values["what"],
        step_id=values["step_id"],
        details={k: str(v) for k, v in values.get("details", {}).items()},
    )
