"""Least privilege that works: the generated policy files are current, and every AWS call each
function makes in the whole flow is allowed by that function's own policy."""

from __future__ import annotations

import contextvars
import fnmatch
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.services.expiry import UnansweredRequests
from chalicelib.services.guest_details import GuestDetails
from chalicelib.wiring import bootstrap
from chalicelib.wiring.event_sources import FUNCTION_TIMEOUT_SECONDS
from infra.iam import FUNCTIONS, STAGES, policy, policy_file, rendered
from localdev.aws_emulation import ACCOUNT, REGION
from tests.pipeline import RES, Flow, book_many

acting: contextvars.ContextVar[str] = contextvars.ContextVar("acting", default="api_handler")
STREAM = "table/reservations-prod/stream/x"
BUS = "arn:aws:events:eu-west-1:1:event-bus/reservations-prod"
ITEM_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                "ConditionCheck": "ConditionCheckItem"}  # fmt: skip


def test_policy_files_and_config_are_current() -> None:
    config = json.loads((policy_file("prod", "api_handler").parent / "config.json").read_text())
    for stage in STAGES:
        assert config["stages"][stage]["autogen_policy"] is False
        for function in FUNCTIONS:
            assert policy_file(stage, function).read_text() == rendered(stage, function), (
                f"run `make policies`: {policy_file(stage, function).name} is stale"
            )
            entry = config["stages"][stage]["lambda_functions"][function]
            assert entry["iam_policy_file"] == policy_file(stage, function).name
            assert entry["lambda_timeout"] == FUNCTION_TIMEOUT_SECONDS[function]


def required(service: str, operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    """The IAM (action, resource) pairs a call needs."""
    arn = f"{REGION}:{ACCOUNT}"
    if service == "dynamodb":
        if operation == "TransactWriteItems":
            pairs = []
            for item in params["TransactItems"]:
                [(kind, body)] = item.items()
                pairs.append(
                    (
                        f"dynamodb:{ITEM_ACTIONS[kind]}",
                        f"arn:aws:dynamodb:{arn}:table/{body['TableName']}",
                    )
                )
            return pairs
        if operation == "BatchWriteItem":
            return [(f"dynamodb:{operation}", f"arn:aws:dynamodb:{arn}:table/{name}")
                    for name in params["RequestItems"]]  # fmt: skip
        resource = f"arn:aws:dynamodb:{arn}:table/{params['TableName']}"
        if "IndexName" in params:
            resource += f"/index/{params['IndexName']}"
        return [(f"dynamodb:{operation}", resource)]
    if service == "events":
        buses = {e.get("EventBusName", "default") for e in params["Entries"]}
        return [(f"events:{operation}", f"arn:aws:events:{arn}:event-bus/{b}") for b in buses]
    if service == "sqs":
        name = params.get("QueueName") or params["QueueUrl"].rsplit("/", 1)[1]
        return [(f"sqs:{operation}", f"arn:aws:sqs:{arn}:{name}")]
    if service == "ses":
        return [(f"ses:{operation}", f"arn:aws:ses:{arn}:identity/{params['Source']}")]
    if service == "ssm":
        return [(f"ssm:{operation}", f"arn:aws:ssm:{arn}:parameter{params['Name']}")]
    raise AssertionError(f"no IAM mapping for {service}:{operation}")


def _listed(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [value]


def allowed(document: dict[str, Any], action: str, resource: str) -> bool:
    return any(
        statement["Effect"] == "Allow"
        and any(fnmatch.fnmatchcase(action, a) for a in _listed(statement["Action"]))
        and any(fnmatch.fnmatchcase(resource, r) for r in _listed(statement["Resource"]))
        for statement in document["Statement"]
    )


def as_acting(name: str, call: Callable[..., Any]) -> Callable[..., Any]:
    def run(*args: Any, **kwargs: Any) -> Any:
        token = acting.set(name)
        try:
            return call(*args, **kwargs)
        finally:
            acting.reset(token)

    return run


def test_every_call_in_the_whole_flow_is_allowed_by_its_functions_policy(
    flow: Flow, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, str, str, dict[str, Any]]] = []
    bootstrap.reset()  # new clients, created with the recorder below

    def record(model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        service = model.service_model.endpoint_prefix
        calls.append((acting.get(), "ses" if service == "email" else service, model.name,
                      context["fault_free_params"]))  # fmt: skip

    def keep(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["fault_free_params"] = dict(params)

    bootstrap.wiring().session.events.register("before-parameter-build", keep)
    bootstrap.wiring().session.events.register("before-call", record)
    for name in ("publish_reservation_events", "notify_staff", "notify_guest",
                 "update_daily_summary", "expire_unanswered_requests",
                 "remove_old_guest_details"):  # fmt: skip
        handler = getattr(flow.pipeline.app, name)
        monkeypatch.setattr(flow.pipeline.app, name, as_acting(name, handler))

    ids = book_many(flow, 4)
    flow.pipeline.drain()
    flow.api.call("POST", f"{RES}/{ids[0]}/accept", None, flow.staff)
    flow.api.call("POST", f"{RES}/{ids[1]}/decline", {"reason": "full"}, flow.staff)
    flow.api.call("POST", f"{RES}/{ids[2]}/cancel", None, flow.staff)
    # The fourth is left unanswered: a run a week on declines it (the decline's transaction).
    wiring = bootstrap.wiring()
    wiring.__dict__["unanswered_requests"] = UnansweredRequests(
        wiring.stores.reservations, lambda: datetime.now(UTC) + timedelta(days=8)
    )
    assert flow.pipeline.run_expiry()["expired"] == 1
    flow.pipeline.drain()
    flow.summary()
    # Staff remove the declined guest's details at their request (the API's DELETE); a run
    # past the retention period removes the others' (with their timelines' recipients).
    flow.api.call("DELETE", f"{RES}/{ids[1]}/guest", None, flow.staff)
    wiring.__dict__["guest_details"] = GuestDetails(
        wiring.stores.reservations,
        wiring.stores.timeline,
        clock=lambda: datetime.now(UTC) + timedelta(days=200),
    )
    assert flow.pipeline.run_retention()["removed"] == 3

    seen = {(function, service, operation) for function, service, operation, _ in calls}
    assert {f for f, _, _ in seen} == set(FUNCTIONS)  # every function made calls
    denied = [
        (function, action, resource)
        for function, service, operation, params in calls
        for action, resource in required(service, operation, params)
        if not allowed(policy("test", function), action, resource)
    ]
    assert denied == [], denied
    # And nothing more than used, apart from what Lambda itself does for the function.
    assert ("api_handler", "events", "PutEvents") not in seen


@pytest.mark.parametrize(
    ("function", "action", "resource"),
    [
        # What Lambda does on a function's behalf: poll its source, send to its destinations.
        ("publish_reservation_events", "dynamodb:GetRecords", STREAM),
        ("publish_reservation_events", "dynamodb:GetShardIterator", STREAM),
        ("publish_reservation_events", "dynamodb:DescribeStream", STREAM),
        ("publish_reservation_events", "dynamodb:ListStreams", STREAM),
        ("publish_reservation_events", "sqs:SendMessage", "reservations-prod-stream-failures"),
        ("notify_staff", "sqs:ReceiveMessage", "reservations-prod-staff-notifications"),
        ("notify_staff", "sqs:DeleteMessage", "reservations-prod-staff-notifications"),
        ("notify_staff", "sqs:GetQueueAttributes", "reservations-prod-staff-notifications"),
        ("notify_guest", "sqs:SendMessage", "reservations-prod-events-dlq"),
        ("update_daily_summary", "sqs:SendMessage", "reservations-prod-events-dlq"),
    ],
)
def test_lambda_can_feed_each_function(function: str, action: str, resource: str) -> None:
    service = action.split(":")[0]
    arn = (f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:{resource}" if service == "dynamodb"
           else f"arn:aws:sqs:{REGION}:{ACCOUNT}:{resource}")  # fmt: skip
    assert allowed(policy("prod", function), action, arn)


@pytest.mark.parametrize(
    ("function", "action", "resource"),
    [
        ("api_handler", "events:PutEvents", BUS),
        ("api_handler", "dynamodb:GetItem", "arn:aws:dynamodb:eu-west-1:1:table/other-table"),
        ("notify_staff", "dynamodb:Query", "arn:aws:dynamodb:eu-west-1:1:table/reservations-prod"),
        ("update_daily_summary", "ses:SendRawEmail", "arn:aws:ses:eu-west-1:1:identity/x"),
        (
            "publish_reservation_events",
            "dynamodb:PutItem",
            "arn:aws:dynamodb:eu-west-1:1:table/reservations-prod",
        ),
        ("api_handler", "dynamodb:GetItem", "arn:aws:dynamodb:eu-west-1:1:table/reservations-dev"),
    ],
)
def test_what_a_function_does_not_need_is_denied(function: str, action: str, resource: str) -> None:
    assert not allowed(policy("prod", function), action, resource)


def test_lambda_can_write_a_failed_batch_to_the_on_failure_bucket() -> None:
    bucket = f"arn:aws:s3:::reservations-prod-stream-failures-{ACCOUNT}-{REGION}"
    stream_function = policy("prod", "publish_reservation_events")
    assert allowed(stream_function, "s3:PutObject", bucket + "/aws/lambda/x/shard/2026/11/25/k")
    assert allowed(stream_function, "s3:ListBucket", bucket)
    assert not allowed(stream_function, "s3:GetObject", bucket + "/aws/lambda/x")
    assert not allowed(policy("prod", "notify_staff"), "s3:PutObject", bucket + "/k")
