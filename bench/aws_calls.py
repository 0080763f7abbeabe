"""AWS calls per reservation over the whole flow (request -> staff email and the guest's
receipt -> accept -> guest email), counted at the boto3 level for this service's own code, at
stream batch sizes 1, 10 and 100, against a naive synchronous design (the API handler writes,
calls PutEvents and sends the same emails itself). Also DynamoDB write and read units, Lambda
invocations per function and the SQS requests of the staff queue, per reservation: the counts
bench/costs.py prices."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.common import Table, bench_environment
from localdev.binding import demo_seating_times

# 30 keeps moto fast (its transactions deep-copy the table) and still fills a batch of 100
# (30 requests + 30 acceptances pass the filter), where PutEvents' 10 entries are the limit.
RESERVATIONS = 30


@dataclass
class Flow:
    """What one design did for `count` reservations, measured."""

    count: int
    calls: Counter[str] = field(default_factory=Counter)
    write_units: list[float] = field(default_factory=list)
    read_units: list[float] = field(default_factory=list)
    invocations: Counter[str] = field(default_factory=Counter)  # Lambda function -> count
    sqs_requests: int = 0  # the staff queue: EventBridge's sends, Lambda's receives and deletes
    stream_records: int = 0  # records the stream mapping hands the relay (after its filter)

    def per_reservation(self, value: float) -> float:
        return value / self.count

    @property
    def ses_emails(self) -> float:
        return self.per_reservation(sum(n for k, n in self.calls.items() if k.startswith("ses:")))

    @property
    def events(self) -> float:
        """Business events put on the bus, per reservation (EventBridge bills each)."""
        return self.per_reservation(self.calls["events:entries"])


def _read_units(name: str, api: dict[str, Any]) -> float:
    """Items here are under 4 KB: a strongly consistent read is 1 unit, eventually 0.5,
    transactional 2; a query of small items reads about one unit's worth."""
    consistent = 1.0 if api.get("ConsistentRead") else 0.5
    if name == "GetItem" or name == "Query":
        return consistent
    if name == "TransactGetItems":
        return 2.0 * len(api.get("TransactItems", []))
    if name == "BatchGetItem":
        return 0.5 * sum(len(t.get("Keys", [])) for t in api.get("RequestItems", {}).values())
    return 0.0


def _count_calls(session: Any, flow: Flow) -> None:
    counter, units = flow.calls, flow.write_units

    def record(model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        api = context.get("bench_params", {})
        counter[f"{model.service_model.service_name}:{model.name}"] += 1
        if model.name == "TransactWriteItems":
            units.append(2 * len(api.get("TransactItems", [])))
        elif model.name in ("PutItem", "UpdateItem", "DeleteItem"):
            units.append(1)
        elif model.name == "PutEvents":
            counter["events:entries"] += len(api.get("Entries", []))
        if model.service_model.service_name == "dynamodb":
            flow.read_units.append(_read_units(model.name, api))

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


def this_service(batch_size: int, count: int = RESERVATIONS) -> Flow:
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

        flow = Flow(count)
        bootstrap.wiring().restaurant_admin.create(demo_restaurant())
        pipeline = Pipeline(boto3.session.Session(), app_module, outputs)
        pipeline.stream_records()  # the seed's records are not part of the flow
        _count_calls(bootstrap.wiring().session, flow)
        # Clients, and everything built on them, made from here on are counted.
        bootstrap.wiring().forget_clients()
        desk = bootstrap.wiring().reservation_desk
        booked = []
        for booking in _bookings(count):
            booked.append(desk.request("demo-bistro", booking).reservation.id)
            flow.invocations["api_handler"] += 1
        _drain(pipeline, batch_size, flow)
        for reservation_id in booked:
            desk.accept("demo-bistro", reservation_id)
            flow.invocations["api_handler"] += 1
        _drain(pipeline, batch_size, flow)
        # The retention period later: the scheduled run removes the guests' details (its
        # records reach the relay, which publishes nothing for them).
        _remove_guest_details(flow)
        _drain(pipeline, batch_size, flow)
    return flow


def _remove_guest_details(flow: Flow) -> None:
    """One run of the retention schedule, on a clock past every seating's retention period
    (its invocations are fixed a month, so they are not counted per reservation)."""
    from chalicelib.services.guest_details import GuestDetails
    from chalicelib.wiring import bootstrap

    wiring = bootstrap.wiring()
    later = datetime.now(UTC) + timedelta(days=wiring.settings.guest_data_retention_days + 30)
    run = GuestDetails(wiring.stores.reservations, wiring.stores.timeline, clock=lambda: later)
    assert run.remove_expired().done == flow.count


def _drain(pipeline: Any, batch_size: int, flow: Flow) -> None:
    from chalicelib.wiring.event_sources import RESERVATION_CHANGES_PATTERN
    from localdev.patterns import matches

    for _ in range(20):
        # Lambda filters before it batches: only reservation changes reach the handler.
        records = [r for r in pipeline.stream_records() if matches(RESERVATION_CHANGES_PATTERN, r)]
        flow.stream_records += len(records)
        for start in range(0, len(records), batch_size):
            pipeline.run_stream(records[start : start + batch_size])
            flow.invocations["publish_reservation_events"] += 1
        messages = pipeline.staff_messages()
        while messages:
            # EventBridge sent each (SendMessage); Lambda received them in one call and
            # deletes the batch in one DeleteMessageBatch.
            flow.sqs_requests += len(messages) + 2
            pipeline.run_staff(messages)
            flow.invocations["notify_staff"] += 1
            messages = pipeline.staff_messages()
        events = pipeline.bus_events()
        for event in events:
            pipeline.run_bus(event)
            flow.invocations.update(_bus_handlers(pipeline, event))
        if not (records or events):
            return


def _bus_handlers(pipeline: Any, event: dict[str, Any]) -> list[str]:
    """The on_cw_event functions EventBridge invokes for `event` (as Pipeline.run_bus does)."""
    return [
        source.name
        for source in pipeline.app.app.event_sources
        if getattr(source, "event_pattern", None)
        and event["detail-type"] in source.event_pattern["detail-type"]
    ]


def naive(count: int = RESERVATIONS) -> Flow:
    """The API handler does it all: write, PutEvents, and the same emails as this service
    (staff's request and the guest's receipt, then the guest's confirmation on accept)."""
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
        flow = Flow(count)
        _count_calls(bootstrap.wiring().session, flow)
        bootstrap.wiring().forget_clients()
        desk = bootstrap.wiring().reservation_desk
        events, ses = bootstrap.wiring().client("events"), bootstrap.wiring().client("ses")
        from chalicelib.adapters.mailer import SesMailer

        mailer = SesMailer(ses, "reservations@demo-bistro.example")
        for booking in _bookings(count):
            reservation = desk.request("demo-bistro", booking).reservation
            for step in ("requested", "accepted"):
                flow.invocations["api_handler"] += 1
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
                recipients = ["staff@demo-bistro.example", "guest@example.com"]
                for to in recipients if step == "requested" else recipients[1:]:
                    mailer.send(Email((to,), step, step, step, "", ""))
        _remove_guest_details(flow)  # the same retention in either design
    return flow


@dataclass
class Measured:
    naive: Flow
    by_batch: dict[int, Flow]


def measure(count: int = RESERVATIONS) -> Measured:
    bench_environment()
    return Measured(naive(count), {batch: this_service(batch, count) for batch in (1, 10, 100)})


def table(measured: Measured) -> Table:
    count = measured.naive.count
    result = Table(
        f"AWS calls per reservation, whole flow ({count} reservations, this service's code only)",
        ["design", "calls", "PutEvents per event", "DynamoDB calls", "SES", "write units",
         "read units", "Lambda invocations", "staff queue SQS requests"],
    )  # fmt: skip
    _row(result, "naive synchronous API", measured.naive)
    for batch, flow in measured.by_batch.items():
        _row(result, f"this service, stream batch {batch}", flow)
    result.notes.append(
        "events per reservation: 2 (requested, accepted); both designs send the same 3 emails "
        "(staff's request, the guest's receipt and confirmation); Lambda's stream polling "
        "(GetRecords: free for Lambda triggers) is not counted"
    )
    result.notes.append(
        "write units: 1 per standard write, 2 per transactional item (items under 1 KB); read "
        "units: 0.5 per eventually consistent GetItem or Query, 1 if consistent, 2 per "
        "transactional item (items under 4 KB); SQS: EventBridge's SendMessage per message, "
        "one ReceiveMessage and one DeleteMessageBatch per batch (idle long polls not counted)"
    )
    return result


def run(count: int = RESERVATIONS) -> Table:
    return table(measure(count))


def _row(table: Table, name: str, flow: Flow) -> None:
    calls = flow.calls
    total = sum(n for k, n in calls.items() if k != "events:entries")
    put_events = calls["events:PutEvents"] / max(1, calls["events:entries"])
    dynamodb = sum(n for k, n in calls.items() if k.startswith("dynamodb:"))
    table.add(
        name,
        f"{flow.per_reservation(total):.2f}",
        f"{put_events:.2f}",
        f"{flow.per_reservation(dynamodb):.2f}",
        f"{flow.ses_emails:.2f}",
        f"{flow.per_reservation(sum(flow.write_units)):.1f}",
        f"{flow.per_reservation(sum(flow.read_units)):.1f}",
        f"{flow.per_reservation(sum(flow.invocations.values())):.2f}",
        f"{flow.per_reservation(flow.sqs_requests):.2f}",
    )


if __name__ == "__main__":
    print(run().text())  # noqa: T201
