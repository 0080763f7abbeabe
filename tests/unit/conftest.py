"""The unit tests' common fixtures: a controllable clock, the in-memory stores with one
restaurant (`chez-test`, 8 covers at a time, 24 hours to answer a request) created at that
clock's time, and the reservation desk on them. A test module needing another restaurant
defines its own `store`."""

from __future__ import annotations

import pytest

from chalicelib.services.booking import ReservationDesk
from tests.builders import Clock, restaurant_spec
from tests.fakes import InMemoryStores


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(clock: Clock) -> InMemoryStores:
    store = InMemoryStores()
    store.admin(clock).create(restaurant_spec(capacity=8, response_deadline_hours=24))
    return store


@pytest.fixture
def desk(store: InMemoryStores, clock: Clock) -> ReservationDesk:
    return store.desk(clock)
