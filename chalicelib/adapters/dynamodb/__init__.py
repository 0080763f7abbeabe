"""The stores on the service's single DynamoDB table, one per aggregate (`restaurants`,
`reservations` with the capacity grid and idempotency keys, `totals`, `staff_tokens`,
`timeline`, `sessions`), over
the shared plumbing in `table`. Keys and `entity` names: `adapters.layout`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.adapters.dynamodb.reservations import DynamoReservations
from chalicelib.adapters.dynamodb.restaurants import DynamoRestaurants
from chalicelib.adapters.dynamodb.sessions import DynamoStaffSessions
from chalicelib.adapters.dynamodb.staff_tokens import DynamoStaffTokens
from chalicelib.adapters.dynamodb.table import Table
from chalicelib.adapters.dynamodb.timeline import DynamoTimeline
from chalicelib.adapters.dynamodb.totals import DynamoDailyTotals
from chalicelib.services.ports import Stores

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


def dynamo_stores(client: DynamoDBClient, table_name: str) -> Stores:
    table = Table(client, table_name)
    return Stores(
        restaurants=DynamoRestaurants(table),
        reservations=DynamoReservations(table),
        totals=DynamoDailyTotals(table),
        staff_tokens=DynamoStaffTokens(table),
        timeline=DynamoTimeline(table),
        sessions=DynamoStaffSessions(table),
    )
