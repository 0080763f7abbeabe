"""Restaurants on the table: one PROFILE item each, replaced optimistically by version."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.dynamodb.table import TableStore, from_item, to_item, without_keys
from chalicelib.adapters.layout import ENTITY, RESTAURANT, RESTAURANT_SK, restaurant_pk
from chalicelib.domain.errors import AlreadyExists, ConcurrentUpdate
from chalicelib.domain.restaurants import Restaurant


class DynamoRestaurants(TableStore):
    """`services.ports.RestaurantStore` on the table."""

    def add_restaurant(self, restaurant: Restaurant) -> None:
        new = self._table.put_if(
            self._restaurant_item(restaurant), ConditionExpression="attribute_not_exists(PK)"
        )
        if not new:
            raise AlreadyExists("restaurant", restaurant.id, field="id")

    def replace_restaurant(self, restaurant: Restaurant) -> None:
        replaced = self._table.put_if(
            self._restaurant_item(restaurant),
            ConditionExpression="#version = :previous",
            ExpressionAttributeNames={"#version": "version"},
            ExpressionAttributeValues={":previous": {"N": str(restaurant.version - 1)}},
        )
        if not replaced:
            raise ConcurrentUpdate(
                "the restaurant was changed meanwhile; fetch it and retry", field="version"
            )

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
