"""Reshape what the emulator returns into exactly what Lambda delivers to handlers.

moto's `get_records` omits `eventSourceARN` and gives `ApproximateCreationDateTime` as a
datetime where Lambda sends epoch seconds; Chalice's DynamoDBRecord breaks on both.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


def stream_record_as_lambda(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    shaped = dict(record)
    shaped["eventSourceARN"] = stream_arn
    shaped.setdefault("eventSource", "aws:dynamodb")
    shaped.setdefault("awsRegion", stream_arn.split(":")[3])
    images = dict(shaped["dynamodb"])
    created = images.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        images["ApproximateCreationDateTime"] = int(created.timestamp())
    shaped["dynamodb"] = images
    return shaped
