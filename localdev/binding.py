"""The one module of the local engine that knows this app. Everything else in `localdev/`
(emulator, runner, console, faults, outbox) is a general Chalice-on-moto engine; it is handed
a `ReservationsApp` and learns from it, and only from it:

- how to load `app.py` as Lambda would, and which boto3 clients the app uses (for faults);
- the settings of each event source mapping that Chalice's decorators cannot express
  (`chalicelib.wiring.event_sources`, the same source `chalice package` and the deploy use);
- how a stream record and a business event read on the console;
- the demo restaurant every local run starts with.

No other module of `localdev/` imports `chalicelib` (tests/localdev/test_engine_boundary.py).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from chalice.app import DynamoDBEventConfig

from chalicelib.adapters.dynamodb import dynamo_stores
from chalicelib.adapters.stream import UnreadableRecord, event_from_record
from chalicelib.domain.booking_rules import seatings
from chalicelib.domain.events import StaffSignInRequested
from chalicelib.domain.ids import new_id
from chalicelib.domain.restaurants import NewRestaurant
from chalicelib.domain.tokens import digest
from chalicelib.services.booking import RestaurantAdmin
from chalicelib.services.ports import StaffToken
from chalicelib.wiring import bootstrap, event_sources
from localdev.runner import BusDelivery, StreamSettings

DEMO_RESTAURANT = Path(__file__).with_name("demo_restaurant.json")
DEMO_ID: str = json.loads(DEMO_RESTAURANT.read_text())["id"]


class ReservationsApp:
    """This app, as the local engine needs to know it."""

    def load(self) -> ModuleType:
        """Import app.py as Lambda runs it (after `infra.stages.use_stage_environment`), with a
        fresh wiring."""
        bootstrap.reset()
        import app as app_module

        return app_module

    def client(self, service: str) -> Any:
        """The boto3 client the app's handlers use for `service` (faults are installed on it)."""
        return bootstrap.wiring().client(service)

    def stream_settings(self, handler: str, config: DynamoDBEventConfig) -> StreamSettings:
        """The decorator's settings, completed from the handler's `StreamMapping` (Lambda's
        defaults when it has none)."""
        mapping = _declared(event_sources.StreamMapping, handler)
        return StreamSettings(
            batch_size=config.batch_size,
            batching_window_seconds=config.maximum_batching_window_in_seconds,
            starting_position=config.starting_position,
            maximum_retry_attempts=mapping.maximum_retry_attempts if mapping else -1,
            bisect_on_error=mapping.bisect_on_error if mapping else False,
            maximum_record_age_seconds=mapping.maximum_record_age_seconds if mapping else -1,
            filter_patterns=mapping.filter_patterns if mapping else (),
            reports_batch_item_failures=mapping is not None,
            on_failure_destination=mapping.on_failure_destination if mapping else None,
        )

    def bus_delivery(self, handler: str) -> BusDelivery:
        """Lambda's asynchronous invocation settings of an on_cw_event handler."""
        subscription = _declared(event_sources.BusSubscription, handler)
        if subscription is None:
            return BusDelivery()
        return BusDelivery(subscription.maximum_retry_attempts, subscription.dead_letter_queue)

    def describe_stream_record(self, record: dict[str, Any]) -> tuple[str, str | None]:
        """A stream record in words, and the reservation it is about."""
        try:
            event = event_from_record(record)
        except UnreadableRecord:
            return f"{record['eventName']} unreadable reservation record", None
        if event is None:
            return f"{record['eventName']} (no business event)", None
        if isinstance(event, StaffSignInRequested):
            return f"{record['eventName']} staff sign-in link requested", None
        state = event.reservation
        return f"{record['eventName']} reservation {state.status.value}", state.id

    def event_reservation(self, detail: Any) -> str | None:
        """The reservation a business event's detail is about."""
        reservation = detail.get("reservation") if isinstance(detail, dict) else None
        found = reservation.get("id") if isinstance(reservation, dict) else None
        return found if isinstance(found, str) else None


def _declared(kind: type[Any], handler: str) -> Any:
    declared = (v for v in vars(event_sources).values() if isinstance(v, kind))
    return next((m for m in declared if m.handler == handler), None)


# -- the demo restaurant ------------------------------------------------------------------


def demo_restaurant() -> NewRestaurant:
    """demo-bistro, as `localdev/demo_restaurant.json` describes it (the README's demo)."""
    return NewRestaurant.model_validate_json(DEMO_RESTAURANT.read_text())


def demo_seating_times() -> list[str]:
    """Every seating of a demo-bistro day, "HH:MM" (the same every day of the week)."""
    return [start.strftime("%H:%M") for start in seatings(demo_restaurant(), date(2026, 6, 1))]


def seed_demo(dynamodb: Any, table_name: str, staff_token: str) -> None:
    """Create demo-bistro and a staff token for it whose secret is `staff_token`."""
    stores = dynamo_stores(dynamodb, table_name)
    RestaurantAdmin(stores.restaurants, stores.staff_tokens).create(demo_restaurant())
    stores.staff_tokens.add_staff_token(
        StaffToken(
            token_id=new_id(),
            restaurant_id=DEMO_ID,
            label="demo front desk",
            token_digest=digest(staff_token),
            created_at=datetime.now(UTC),
        )
    )
