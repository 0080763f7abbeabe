"""Least-privilege IAM policies, one per Lambda function and stage (`autogen_policy: false`).

One description here; `python -m infra.iam` writes `.chalice/policy-<stage>-<function>.json`
and the stage's `lambda_functions` entries in `.chalice/config.json` (with each function's
`lambda_timeout` and `lambda_memory_size`, and the stage's `lambda_architecture`, from
`chalicelib/wiring/event_sources.py`). A test checks the files
are current and that every AWS call the code makes is allowed by its function's policy.
Resources are named exactly; account and region are wildcards so the same file serves
`chalice deploy` (which takes the file as it is) and `chalice package`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from chalicelib.wiring.event_sources import (
    FUNCTION_MEMORY_MB,
    FUNCTION_TIMEOUT_SECONDS,
    LAMBDA_ARCHITECTURE,
)
from infra import ROOT
from infra.names import secret_parameter, stack_name
from infra.stages import LOG_RETENTION_DAYS

CHALICE = ROOT / ".chalice"
STAGES = ("dev", "prod")
FUNCTIONS = (
    "api_handler",
    "publish_reservation_events",
    "notify_staff",
    "notify_guest",
    "update_daily_summary",
    "expire_unanswered_requests",
    "remove_old_guest_details",
)


def _arns(stage: str) -> dict[str, str]:
    name = stack_name(stage)
    return {
        "table": f"arn:aws:dynamodb:*:*:table/{name}",
        "index": f"arn:aws:dynamodb:*:*:table/{name}/index/*",
        "stream": f"arn:aws:dynamodb:*:*:table/{name}/stream/*",
        "bus": f"arn:aws:events:*:*:event-bus/{name}",
        "staff_queue": f"arn:aws:sqs:*:*:{name}-staff-notifications",
        "stream_failures": f"arn:aws:sqs:*:*:{name}-stream-failures",
        "failure_bucket": f"arn:aws:s3:::{name}-stream-failures-*",
        "staff_dlq": f"arn:aws:sqs:*:*:{name}-staff-notifications-dlq",
        "stack": f"arn:aws:cloudformation:*:*:stack/{name}/*",
        "alarms": f"arn:aws:cloudwatch:*:*:alarm:{name}*",
        "events_dlq": f"arn:aws:sqs:*:*:{name}-events-dlq",
        "secrets": f"arn:aws:ssm:*:*:parameter{secret_parameter(stage, '*')}",
        "identity": "arn:aws:ses:*:*:identity/*",
        # Chalice names the API function reservations-<stage>, the others reservations-<stage>-*.
        "logs": f"arn:aws:logs:*:*:log-group:/aws/lambda/{name}",
    }


def _allow(sid: str, actions: list[str], resources: list[str]) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": resources}


def policy(stage: str, function: str) -> dict[str, Any]:
    arn = _arns(stage)
    logs = _allow(
        "Logs",
        ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        [arn["logs"] + ":*", arn["logs"] + "-*:*"],
    )
    secrets_statements = [
        _allow("Secrets", ["ssm:GetParameter"], [arn["secrets"]]),
        {
            "Sid": "DecryptSecretsThroughSsm",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {"StringLike": {"kms:ViaService": "ssm.*.amazonaws.com"}},
        },
    ]
    # Powertools idempotency records (one email per event): read, claim, complete, release.
    # And the reservation's timeline (BatchWriteItem).
    idempotency = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
                   "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"]  # fmt: skip
    statements: dict[str, list[dict[str, Any]]] = {
        "api_handler": [
            _allow(
                "Reservations",
                # TransactWriteItems is authorised per item: Put, Update, Delete.
                [
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:DeleteItem",
                    "dynamodb:Query",
                ],
                [arn["table"], arn["index"]],
            ),  # fmt: skip
            *secrets_statements,
        ],
        "publish_reservation_events": [
            _allow(
                "ReadStream",
                [
                    "dynamodb:DescribeStream",
                    "dynamodb:GetRecords",
                    "dynamodb:GetShardIterator",
                    "dynamodb:ListStreams",
                ],
                [arn["stream"]],
            ),  # fmt: skip
            *_relay(arn),
            # Lambda writes a failed batch to the on-failure bucket with the function's role.
            _allow("FailedBatches", ["s3:PutObject"], [arn["failure_bucket"] + "/*"]),
            _allow("FailedBatchesBucket", ["s3:ListBucket"], [arn["failure_bucket"]]),
        ],
        "notify_staff": [
            _allow(
                "ConsumeQueue",
                [
                    "sqs:ReceiveMessage",
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes",
                    "sqs:ChangeMessageVisibility",
                ],
                [arn["staff_queue"]],
            ),  # fmt: skip
            _allow("RestaurantsAndIdempotency", idempotency, [arn["table"]]),
            _allow("Email", ["ses:SendRawEmail"], [arn["identity"]]),
            *secrets_statements,
        ],
        "notify_guest": [
            _allow("RestaurantsAndIdempotency", idempotency, [arn["table"]]),
            _allow("Email", ["ses:SendRawEmail"], [arn["identity"]]),
            _allow("FailedEvents", ["sqs:SendMessage"], [arn["events_dlq"]]),
            *secrets_statements,
        ],
        "update_daily_summary": [
            _allow(
                "Summaries",
                ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
                [arn["table"]],
            ),
            # Each event's "event on the bus" step on its reservation's timeline.
            _allow("Timeline", ["dynamodb:BatchWriteItem"], [arn["table"]]),
            _allow("FailedEvents", ["sqs:SendMessage"], [arn["events_dlq"]]),
        ],
        "expire_unanswered_requests": [
            # The unanswered index (Query), the reservation re-read (GetItem) and its decline:
            # a conditional PutItem, in a transaction with the covers' UpdateItems.
            _allow(
                "Reservations",
                ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"],
                [arn["table"], arn["index"]],
            ),
        ],
        "remove_old_guest_details": [
            # The due index (Query), the reservation re-read (GetItem), its timeline (Query),
            # the steps' recipients removed (UpdateItem), the reservation put back without its
            # guest's details (a conditional PutItem).
            _allow(
                "Reservations",
                ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"],
                [arn["table"], arn["index"]],
            ),
        ],
    }
    return {"Version": "2012-10-17", "Statement": [*statements[function], logs]}


def _relay(arn: dict[str, str]) -> list[dict[str, Any]]:
    """What the stream handler's relay does: publish, note an event it could not publish on its
    reservation's timeline, set aside records it cannot read."""
    return [
        _allow("Publish", ["events:PutEvents"], [arn["bus"]]),
        _allow("Timeline", ["dynamodb:BatchWriteItem"], [arn["table"]]),
        _allow("FailedRecords", ["sqs:SendMessage", "sqs:GetQueueUrl"], [arn["stream_failures"]]),
    ]


def operator_policy(stage: str) -> dict[str, Any]:
    """What `python -m ops` needs for a stage, and nothing more (tests/integration/test_ops.py
    checks every call it makes against it)."""
    arn = _arns(stage)
    queue_read = ["sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"]
    take = [*queue_read, "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"]
    return {
        "Version": "2012-10-17",
        "Statement": [
            _allow("FindTheStage", ["cloudformation:DescribeStacks"], [arn["stack"]]),
            _allow("Alarms", ["cloudwatch:DescribeAlarms"], [arn["alarms"]]),
            {
                "Sid": "CountRepairs",
                "Effect": "Allow",
                "Action": "cloudwatch:PutMetricData",
                "Resource": "*",  # PutMetricData has no resource; the namespace is the limit
                "Condition": {"StringEquals": {"cloudwatch:namespace": "Reservations"}},
            },
            _allow("FailedBatchesBucket", ["s3:ListBucket"], [arn["failure_bucket"]]),
            _allow(
                "FailedBatches",
                ["s3:GetObject", "s3:DeleteObject"],
                [arn["failure_bucket"] + "/*"],
            ),
            _allow(
                "FailureQueues", take, [arn["stream_failures"], arn["staff_dlq"], arn["events_dlq"]]
            ),  # fmt: skip
            _allow("MoveStaffNotifications", ["sqs:StartMessageMoveTask"], [arn["staff_dlq"]]),
            _allow(
                "RedriveStaffNotifications",
                ["sqs:SendMessage", "sqs:GetQueueUrl", "sqs:GetQueueAttributes"],
                [arn["staff_queue"]],
            ),  # fmt: skip
            *_relay(arn),  # `recover` publishes through the stream handler's relay
            _allow(
                "ReadTheStream",
                ["dynamodb:DescribeStream", "dynamodb:GetShardIterator", "dynamodb:GetRecords"],
                [arn["stream"]],
            ),
            _allow("ReservationsOfALostBatch", ["dynamodb:Scan"], [arn["table"]]),
            # `reindex`: old reservations found and their due-index keys set
            _allow(
                "IndexOldReservations", ["dynamodb:Scan", "dynamodb:UpdateItem"], [arn["table"]]
            ),
        ],
    }


def operator_policy_file(stage: str) -> Path:
    return ROOT / "infra" / f"operator-policy-{stage}.json"


def policy_file(stage: str, function: str) -> Path:
    return CHALICE / f"policy-{stage}-{function}.json"


def rendered(stage: str, function: str) -> str:
    return json.dumps(policy(stage, function), indent=2) + "\n"


def write() -> None:
    config_path = CHALICE / "config.json"
    config = json.loads(config_path.read_text())
    for stage in STAGES:
        stage_config = config["stages"][stage]
        stage_config["autogen_policy"] = False
        stage_config["lambda_architecture"] = LAMBDA_ARCHITECTURE
        stage_config["log_retention_in_days"] = LOG_RETENTION_DAYS[stage]
        functions = stage_config.setdefault("lambda_functions", {})
        for function in FUNCTIONS:
            policy_file(stage, function).write_text(rendered(stage, function))
            functions.setdefault(function, {})
            functions[function]["iam_policy_file"] = policy_file(stage, function).name
            functions[function]["lambda_timeout"] = FUNCTION_TIMEOUT_SECONDS[function]
            functions[function]["lambda_memory_size"] = FUNCTION_MEMORY_MB[function]
    config_path.write_text(json.dumps(config, indent=2) + "\n")
    for stage in STAGES:
        operator_policy_file(stage).write_text(json.dumps(operator_policy(stage), indent=2) + "\n")


if __name__ == "__main__":
    write()
