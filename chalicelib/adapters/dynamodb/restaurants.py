"""Restaurants on the table: one PROFILE item each, replaced optimistically by version."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamodb.table import (
    Table,
    condition_failed,
    from_item,
    to_item,
    without_keys,
)
from chalicelib.adapters.layout import ENTITY, RESTAURANT, RESTAURANT_SK, restaurant_pk
from chalicelib.domain.errors import AlreadyExists, ConcurrentUpdate
from chalicelib.domain.restaurants import Restaurant


class DynamoRestaurants:
    """`services.ports.RestaurantStore` on the table."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def add_restaurant(self, restaurant: Restaurant) -> None:
        try:
            self._table.client.put_item(
                TableName=self._table.name,
                Item=self._restaurant_item(restaurant),
                ConditionExpression="attribute_not_exists(PK)",
            )
        except ClientError as error:
            if condition_failed(error):
                raise AlreadyExists("restaurant", restaurant.id, field="id") from None
            raise

    def replace_restaurant(self, restaurant: Restaurant) -> None:
        try:
            self._table.client.put_item(
                TableName=self._table.name,
                Item=self._restaurant_item(restaurant),
                ConditionExpression="#version = :previous",
                ExpressionAttributeNames={"#version": "version"},
                ExpressionAttributeValues={":previous": {"N": str(restaurant.version - 1)}},
            )
        except ClientError as error:
            if condition_failed(error):
                raise ConcurrentUpdate(
                    "the restaurant was changed meanwhile; fetch it and retry", field="version"
                ) from None
            raise

    def get_restaurant(self, restaurant_id: str) -> Restaurant | None:
        item = self._table.get(restaurant_pk(restaurant_id), RESTAURANT_SK)
        if item is None:
            return None
        return Restaurant.model_validate(without_keys(from_item(item)))

    @staticmethod
    def _restaurant_item(restaurant: Restaurant) -> dict[str, Any]:
        return to_item(
            {
                **restaurant.model_dump(mode="json"),
                "PK": restaurant_pk(restaurant.id),
                "SK": RESTAURANT_SK,
                ENTITY: RESTAURANT,
            }
        )
