"""The single DynamoDB table the stores share: (de)serialisation and the three calls every
store makes (a consistent get, a paginated query, a transaction with conflict retries).

Keys and `entity` names come from `adapters.layout`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from chalicelib.adapters.layout import ENTITY, PK, SK

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
TRANSACTION_ATTEMPTS = 5


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


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


def without_keys(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k not in {PK, SK, ENTITY}}


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def condition_failed(error: ClientError) -> bool:
    return error_code(error) == "ConditionalCheckFailedException"


class Table:
    """The service's table and its client, shared by the stores."""

    def __init__(self, client: DynamoDBClient, name: str) -> None:
        self.client = client
        self.name = name

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        response = self.client.get_item(
            TableName=self.name, Key=to_item({"PK": pk, "SK": sk}), ConsistentRead=True
        )
        return response.get("Item")

    def put_if(self, item: dict[str, Any], **condition: Any) -> bool:
        """A PutItem with `condition` (ConditionExpression and its names and values); False
        when the condition failed (nothing written)."""
        try:
            self.client.put_item(TableName=self.name, Item=item, **condition)
        except ClientError as error:
            if condition_failed(error):
                return False
            raise
        return True

    def query(self, **params: Any) -> Iterator[dict[str, Any]]:
        paginator = self.client.get_paginator("query")
        for page in paginator.paginate(TableName=self.name, **params):
            yield from page.get("Items", [])

    def transact(self, writes: list[Any]) -> list[str] | None:
        """Run a transaction; None on success, else the per-item cancellation codes.

        TransactionConflict (another transaction on the same items) is retried with jittered
        backoff; a condition failure is returned for the caller to explain.
        """
        for attempt in range(TRANSACTION_ATTEMPTS):
            try:
                self.client.transact_write_items(TransactItems=writes)
                return None
            except ClientError as error:
                if error_code(error) != "TransactionCanceledException":
                    raise
                codes = [
                    r.get("Code", "None") for r in error.response.get("CancellationReasons", [])
                ]
                if "ConditionalCheckFailed" in codes or attempt == TRANSACTION_ATTEMPTS - 1:
                    return codes or ["Unknown"]
                time.sleep(random.uniform(0, 0.02 * 2**attempt))
        return ["Unknown"]  # pragma: no cover - the loop always returns


class TableStore:
    """Base of the stores: each keeps its aggregate's items on the shared table."""

    def __init__(self, table: Table) -> None:
        self._table = table
