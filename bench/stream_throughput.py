"""Records per second through the real `on_dynamodb_record` handler, in-process, against a
hand-written decode + map loop (the floor) and a straightforward Powertools BatchProcessor
version, on the same Lambda-shaped batch of 100 reservation records.

No AWS is reached: EventBridge and DynamoDB (the relay's timeline steps) are stand-ins that
accept everything, so the figures are the handler's own CPU time. The variants take turns
batch by batch, and each ratio is the median of per-round ratios, so a burst of other work on
the machine (2 shared cores) hits both sides of a ratio alike.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.common import Table, bench_environment, median

BATCH = 100


class AcceptsEverything:
    """An EventBridge client stand-in: every entry succeeds."""

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "x"} for _ in Entries]}


class WritesEverything:
    """A DynamoDB client stand-in for the relay's timeline steps: every write succeeds."""

    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803
        return {"UnprocessedItems": {}}


def records(count: int = BATCH) -> list[dict[str, Any]]:
    from chalicelib.adapters.dynamodb.reservations import reservation_item
    from chalicelib.domain.ids import new_id
    from chalicelib.domain.reservations import Guest, Reservation

    start = datetime(2026, 12, 24, 19, 30, tzinfo=UTC)
    shaped = []
    for i in range(count):
        reservation = Reservation(
            id=new_id(),
            restaurant_id="demo-bistro",
            guest=Guest(name=f"Guest {i}", email="guest@example.com", phone="+33612345678"),
            party_size=2,
            starts_at=start,
            ends_at=start + timedelta(minutes=90),
            timezone="Europe/Paris",
            notes="window seat",
            created_at=start,
            updated_at=start,
            manage_token_hash="f" * 64,
        )
        shaped.append(
            {
                "eventID": str(i),
                "eventName": "INSERT",
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": "eu-west-1",
                "dynamodb": {
                    "ApproximateCreationDateTime": 1795000000,
                    "Keys": {},
                    "NewImage": reservation_item(reservation),
                    "SequenceNumber": str(10**20 + i),
                    "SizeBytes": 500,
                    "StreamViewType": "NEW_AND_OLD_IMAGES",
                },
                "eventSourceARN": "arn:aws:dynamodb:eu-west-1:1:table/t/stream/s",
            }
        )
    return shaped


def run(batches: int = 30, runs: int = 7) -> Table:
    bench_environment()
    from boto3.dynamodb.types import TypeDeserializer

    import app
    from chalicelib.wiring import bootstrap
    from localdev.lambda_shapes import LocalLambdaContext

    relay = bootstrap.wiring().stream_relay
    # The stand-in clients, nothing else changes (the timeline's client is the stores' one).
    relay._publisher._client = AcceptsEverything()
    if relay._timeline is not None:
        relay._timeline._table.client = WritesEverything()  # type: ignore[attr-defined]
    event = {"Records": records()}
    context = LocalLambdaContext("bench")
    deserializer = TypeDeserializer()

    def handler() -> None:
        assert app.publish_reservation_events(event, context) == {"batchItemFailures": []}

    def floor() -> None:
        """Decode every image and map it to the event's fields, nothing more."""
        entries = []
        for record in event["Records"]:
            image = {
                k: deserializer.deserialize(v) for k, v in record["dynamodb"]["NewImage"].items()
            }
            entries.append(
                {
                    "id": image["id"],
                    "status": image["status"],
                    "party_size": int(image["party_size"]),
                    "starts_at": image["starts_at"],
                    "guest": image["guest"],
                }
            )

    from aws_lambda_powertools.utilities.batch import (
        BatchProcessor,
        EventType,
        process_partial_response,
    )

    from chalicelib.adapters.stream import event_from_record

    processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
    publisher = relay._publisher

    def record_handler(record: Any) -> None:
        found = event_from_record(record.raw_event)
        if found is not None:
            publisher.publish_call([found])

    def powertools() -> None:
        process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=None
        )

    variants = (handler, floor, powertools)
    # The handler's metrics flush prints one EMF line a batch (as in Lambda): still written,
    # to /dev/null rather than over the tables.
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        for variant in variants:
            variant()  # warm up: first-use imports and caches
        per_run = [_rounds(batches, variants) for _ in range(runs)]
    # Seconds of each batch, per variant, in the order they ran (round by round, run by run).
    ours, base, pt = ([t for run in per_run for t in run[i]] for i in range(len(variants)))
    table = Table(
        "Stream handler throughput (records/s, batch of 100, one core)",
        ["variant", "median rec/s", "ratio to floor"],
    )
    table.add("floor: TypeDeserializer + map, hand-written", _rate(base), "1.00")
    table.add("this handler (decode, validate, map, publish)", _rate(ours), _ratio(base, ours))
    table.add("Powertools BatchProcessor, one PutEvents per record", _rate(pt), _ratio(base, pt))
    per_run_ratios = [median([b / o for o, b in zip(r[0], r[1], strict=True)]) for r in per_run]
    table.notes.append(
        f"{runs} runs of {batches} rounds; a round is one batch of each variant, in turn (the "
        "order rotating); rec/s: median batch; ratio: median over rounds of the floor's batch "
        "time over the variant's in the same round; this handler's median ratio per run: "
        f"{min(per_run_ratios):.2f} to {max(per_run_ratios):.2f}"
    )
    return table


def _rounds(batches: int, variants: tuple[Callable[[], None], ...]) -> list[list[float]]:
    """One run: `batches` rounds, each a batch of every variant (the order rotating each
    round); the seconds each batch took, per variant."""
    spent: list[list[float]] = [[] for _ in variants]
    for round_number in range(batches):
        for turn in range(len(variants)):
            i = (round_number + turn) % len(variants)
            started = time.perf_counter()
            variants[i]()
            spent[i].append(time.perf_counter() - started)
    return spent


def _rate(seconds: list[float]) -> str:
    return f"{BATCH / median(seconds):,.0f}"


def _ratio(floor: list[float], variant: list[float]) -> str:
    """The floor's time over the variant's, round by round (neighbours in time share the
    machine's state), then the median."""
    return f"{median([f / v for f, v in zip(floor, variant, strict=True)]):.2f}"


if __name__ == "__main__":
    print(run().text())  # noqa: T201
