"""AWS calls per reservation over the whole flow (request -> staff email -> accept -> guest
email), counted at the boto3 level for this service's own code, at stream batch sizes 1, 10
and 100, against a naive synchronous design (the API handler writes, calls PutEvents and sends
the email itself). Also DynamoDB write units per reservation (transactional items count 2)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.common import Table, bench_environment
from localdev.binding import demo_seating_times

# 30 keeps moto fast (its transactions deep-copy the table) and still fills a batch of 100
# (30 requests + 30 acceptances pass the filter), where PutEvents' 10 entries are the limit.
RESERVATIONS = 30


def _count_calls(session: Any, counter: Counter[str], units: list[int]) -> None:
    def record(model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        api = context.get("bench_params", {})
        counter[f"{model.service_model.service_name}:{model.name}"] += 1
        if model.name == "TransactWriteItems":
            units.append(2 * len(api.get("TransactItems", [])))
        elif model.name in ("PutItem", "UpdateItem", "DeleteItem"):
            units.append(1)

    def keep(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["bench_params"] = params

    session.events.register("before-parameter-build", keep)
    session.events.register("before-call", record)


def _bookings(count: int) -> list[Any]:
    from chalicelib.domain.reservations import RequestReservation

    day = datetime.now(UTC).date() + timedelta(days=3)
    times = demo_seating_times()
    return [
        RequestReservation.model_validate(
            {
                "guest": {"name": f"Guest {i}", "email": "guest@example.com"},
                "party_size": 1,
                "starts_at": f"{day + timedelta(days=i // len(times))}T{times[i % len(times)]}",
            }
        )
        for i in range(count)
    ]


def this_service(batch_size: int, count: int = RESERVATIONS) -> tuple[Counter[str], list[int]]:
    import boto3
    from moto import mock_aws

    from chalicelib.wiring import bootstrap
    from localdev.aws_emulation import serialize_dynamodb_requests
    from localdev.binding import demo_restaurant
    from localdev.provision import provision
    from tests.pipeline import Pipeline

    serialize_dynamodb_requests()
    with mock_aws():
        outputs = provision(boto3.session.Session(), stage="bench")
        bootstrap.reset()
        import app as app_module

        counter: Counter[str] = Counter()
        units: list[int] = []
        bootstrap.wiring().restaurant_admin.create(demo_restaurant())
        pipeline = Pipeline(boto3.session.Session(), app_module, outputs)
        pipeline.stream_records()  # the seed's records are not part of the flow
        _count_calls(bootstrap.wiring().session, counter, units)
        # Clients, and everything built on them, made from here on are counted.
        bootstrap.wiring().forget_clients()
        desk = bootstrap.wiring().reservation_desk
        booked = [desk.request("demo-bistro", b).reservation.id for b in _bookings(count)]
        _drain(pipeline, batch_size)
        for reservation_id in booked:
            desk.accept("demo-bistro", reservation_id)
        _drain(pipeline, batch_size)
    return counter, units


def _drain(pipeline: Any, batch_size: int) -> None:
    from chalicelib.wiring.event_sources import RESERVATION_CHANGES_PATTERN
    from localdev.patterns import matches

    for _ in range(20):
        # Lambda filters before it batches: only reservation changes reach the handler.
        records = [r for r in pipeline.stream_records() if matches(RESERVATION_CHANGES_PATTERN, r)]
        for start in range(0, len(records), batch_size):
            pipeline.run_stream(records[start : start + batch_size])
        messages = pipeline.staff_messages()
        while messages:
            pipeline.run_staff(messages)
            messages = pipeline.staff_messages()
        events = pipeline.bus_events()
        for event in events:
            pipeline.run_bus(event)
        if not (records or events):
            return


def naive(count: int = RESERVATIONS) -> tuple[Counter[str], list[int]]:
    """The API handler does it all: write, PutEvents, SendEmail; and again on accept."""
    import boto3
    from moto import mock_aws

    from chalicelib.services.emails import Email
    from chalicelib.wiring import bootstrap
    from localdev.binding import demo_restaurant
    from localdev.provision import provision

    with mock_aws():
        provision(boto3.session.Session(), stage="bench")
        bootstrap.reset()
        bootstrap.wiring().restaurant_admin.create(demo_restaurant())
        counter: Counter[str] = Counter()
        units: list[int] = []
        _count_calls(bootstrap.wiring().session, counter, units)
        bootstrap.wiring().forget_clients()
        desk = bootstrap.wiring().reservation_desk
        events, ses = bootstrap.wiring().client("events"), bootstrap.wiring().client("ses")
        from chalicelib.adapters.mailer import SesMailer

        mailer = SesMailer(ses, "reservations@demo-bistro.example")
        for booking in _bookings(count):
            reservation = desk.request("demo-bistro", booking).reservation
            for step in ("requested", "accepted"):
                if step == "accepted":
                    reservation = desk.accept("demo-bistro", reservation.id)
                events.put_events(
                    Entries=[
                        {
                            "Source": "reservations",
                            "DetailType": step,
                            "Detail": "{}",
                            "EventBusName": "reservations-bench",
                        }
                    ]
                )
                mailer.send(Email(("staff@demo-bistro.example",), step, step, step, "", ""))
    return counter, units


def run(count: int = RESERVATIONS) -> Table:
    bench_environment()
    table = Table(
        f"AWS calls per reservation, whole flow ({count} reservations, this service's code only)",
        ["design", "calls", "PutEvents per event", "DynamoDB calls", "SES", "write units"],
    )
    naive_calls, naive_units = naive(count)
    _row(table, "naive synchronous API", naive_calls, naive_units, count)
    for batch in (1, 10, 100):
        calls, units = this_service(batch, count)
        _row(table, f"this service, stream batch {batch}", calls, units, count)
    table.notes.append(
        "events per reservation: 2 (requested, accepted); Lambda's own polling "
        "(GetRecords, ReceiveMessage, DeleteMessage) is not counted"
    )
    table.notes.append(
        "write units: 1 per standard write, 2 per transactional item (items under "
        "1 KB); reads not counted"
    )
    return table


def _row(table: Table, name: str, calls: Counter[str], units: list[int], count: int) -> None:
    total = sum(calls.values())
    put_events = calls["events:PutEvents"] / (2 * count)
    dynamodb = sum(n for k, n in calls.items() if k.startswith("dynamodb:"))
    ses = sum(n for k, n in calls.items() if k.startswith("ses:"))
    table.add(
        name,
        f"{total / count:.2f}",
        f"{put_events:.2f}",
        f"{dynamodb / count:.2f}",
        f"{ses / count:.2f}",
        f"{sum(units) / count:.1f}",
    )


if __name__ == "__main__":
    print(run().text())  # noqa: T201
