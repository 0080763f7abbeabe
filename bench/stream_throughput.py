"""Records per second through the real `on_dynamodb_record` handler, in-process, against a
hand-written decode + map loop (the floor) and a straightforward Powertools BatchProcessor
version, on the same Lambda-shaped batch of 100 reservation records.

No AWS is reached: EventBridge and DynamoDB (the relay's timeline steps) are stand-ins that
accept everything, so the figures are the handler's own CPU time. The variants take turns
batch by batch, so a burst of other work on the machine hits them alike.
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
        per_run = [_rates(batches, variants) for _ in range(runs)]
    ours, base, pt = ([run[i] for run in per_run] for i in range(len(variants)))
    table = Table(
        "Stream handler throughput (records/s, batch of 100, one core)",
        ["variant", "median rec/s", "ratio to floor"],
    )
    ratios = [o / b for o, b in zip(ours, base, strict=True)]
    table.add("floor: TypeDeserializer + map, hand-written", f"{median(base):,.0f}", "1.00")
    table.add(
        "this handler (decode, validate, map, publish)",
        f"{median(ours):,.0f}",
        f"{median(ours) / median(base):.2f}",
    )
    table.add(
        "Powertools BatchProcessor, one PutEvents per record",
        f"{median(pt):,.0f}",
        f"{median(pt) / median(base):.2f}",
    )
    table.notes.append(
        f"median of {runs} runs of {batches} batches each, the variants taking turns batch by "
        f"batch; this handler's ratio per run: {min(ratios):.2f} to {max(ratios):.2f}"
    )
    return table


def _rates(batches: int, variants: tuple[Callable[[], None], ...]) -> list[float]:
    """One run: `batches` rounds, each a batch of every variant (the order rotating each
    round); records per second of each variant over the run."""
    spent = [0.0] * len(variants)
    for round_number in range(batches):
        for turn in range(len(variants)):
            i = (round_number + turn) % len(variants)
            started = time.perf_counter()
            variants[i]()
            spent[i] += time.perf_counter() - started
    return [batches * BATCH / seconds for seconds in spent]


if __name__ == "__main__":
    print(run().text())  # noqa: T201
