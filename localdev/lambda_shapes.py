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


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """An SQS event as Lambda delivers it, from `receive_message` results."""
    region = queue_arn.split(":")[3]
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {
                    "ApproximateReceiveCount": m.get("Attributes", {}).get(
                        "ApproximateReceiveCount", "1"
                    ),
                    "SentTimestamp": m.get("Attributes", {}).get("SentTimestamp", "0"),
                    "SenderId": "local",
                    "ApproximateFirstReceiveTimestamp": "0",
                },
                "messageAttributes": {},
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }


def eventbridge_event(delivered: dict[str, Any], account: str) -> dict[str, Any]:
    """An EventBridge event as delivered to a target; moto's copy lacks `account`."""
    event = dict(delivered)
    event.setdefault("account", account)
    event.setdefault("version", "0")
    event.setdefault("resources", [])
    return event


def scheduled_event(rule_arn: str, account: str, at: datetime) -> dict[str, Any]:
    """A scheduled rule's event as EventBridge delivers it to its target function."""
    import uuid

    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": rule_arn.split(":")[3],
        "resources": [rule_arn],
        "detail": {},
    }


class LocalLambdaContext:
    """What handlers may read from Lambda's context object."""

    def __init__(self, function_name: str, timeout_seconds: int = 30, memory_mb: int = 256) -> None:
        import time
        import uuid

        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.invoked_function_arn = f"arn:aws:lambda:local:000000000000:function:{function_name}"
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        import time

        return max(0, int((self._deadline - time.monotonic()) * 1000))
