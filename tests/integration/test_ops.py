"""The operator CLI's work, in-process on moto: every failure destination filled the way AWS
fills it, then status, recover and redrive, with every AWS call checked against the operator
policy (infra/operator-policy-<stage>.json) and every email sent exactly once."""

from __future__ import annotations

import io
import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from chalicelib.adapters.stream import is_reservation_change
from chalicelib.wiring import bootstrap
from infra.iam import STAGES, operator_policy, operator_policy_file
from localdev.aws_emulation import ACCOUNT, REGION
from ops import failures
from ops.stage import Stage
from tests.integration.test_iam_coverage import allowed
from tests.integration.test_iam_coverage import required as required_by_functions
from tests.pipeline import Flow, assert_exactly_once, book_many, sent_emails


def required(service: str, operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    arn = f"{REGION}:{ACCOUNT}"
    if service == "s3":
        key = f"/{params['Key']}" if "Key" in params else ""
        return [(f"s3:{'ListBucket' if operation == 'ListObjectsV2' else operation}",
                 f"arn:aws:s3:::{params['Bucket']}{key}")]  # fmt: skip
    if service == "cloudformation":
        return [(f"cloudformation:{operation}",
                 f"arn:aws:cloudformation:{arn}:stack/{params['StackName']}/x")]  # fmt: skip
    if service == "monitoring":
        if operation == "PutMetricData":  # no resource: the policy's condition is the namespace
            assert params["Namespace"] == "Reservations"
        return [(f"cloudwatch:{operation}", f"arn:aws:cloudwatch:{arn}:alarm:reservations-test")]
    if service == "streams.dynamodb":
        return [(f"dynamodb:{operation}", params["StreamArn"] if "StreamArn" in params
                 else f"arn:aws:dynamodb:{arn}:table/reservations-test/stream/x")]  # fmt: skip
    if (service, operation) == ("sqs", "StartMessageMoveTask"):
        return [("sqs:StartMessageMoveTask", params["SourceArn"]),
                ("sqs:SendMessage", params["DestinationArn"])]  # fmt: skip
    return required_by_functions(service, operation, params)


def test_operator_policy_files_are_current() -> None:
    for stage in STAGES:
        written = json.loads(operator_policy_file(stage).read_text())
        assert written == operator_policy(stage), "run `python -m infra.iam`"


def fill_every_failure_destination(flow: Flow, stage: Stage) -> list[str]:
    """Three bookings whose events never left: their stream batch in the bucket (as Lambda's S3
    destination writes it) and again as a batch-info record in the failure queue; and one
    staff notification in the staff DLQ and one guest event in the events DLQ."""
    ids = book_many(flow, 3)
    records = flow.pipeline.stream_records()
    reservations = [r for r in records if is_reservation_change(r)]  # the mapping's filter
    first, last = reservations[0]["dynamodb"], reservations[-1]["dynamodb"]
    shard = stage.client("dynamodbstreams").describe_stream(StreamArn=flow.pipeline.stream_arn)[
        "StreamDescription"]["Shards"][0]["ShardId"]  # fmt: skip
    info = {
        "shardId": shard, "streamArn": flow.pipeline.stream_arn,
        "startSequenceNumber": first["SequenceNumber"], "endSequenceNumber": last["SequenceNumber"],
        "approximateArrivalOfFirstRecord": first["ApproximateCreationDateTime"],
        "approximateArrivalOfLastRecord": last["ApproximateCreationDateTime"],
        "batchSize": len(reservations),
    }  # fmt: skip
    body = {"DDBStreamBatchInfo": info, "requestContext": {"condition": "RetryAttemptsExhausted"}}
    stage.client("s3").put_object(
        Bucket=stage.outputs["StreamFailureBucketName"], Key="aws/lambda/x/shard/batch",
        Body=json.dumps({**body, "payload": json.dumps({"Records": reservations})}),
    )  # fmt: skip
    sqs = stage.client("sqs")
    sqs.send_message(
        QueueUrl=stage.queue_url("StreamFailureQueueArn"), MessageBody=json.dumps(body)
    )
    return ids


def test_status_recover_and_redrive_with_the_operator_policy(flow: Flow) -> None:
    import boto3

    operator = boto3.session.Session()  # the operator's own session, as `python -m ops` has
    stage = Stage("test", operator, flow.pipeline.outputs)
    ids = fill_every_failure_destination(flow, stage)
    calls: list[tuple[str, str, dict[str, Any]]] = []
    recording = [True]

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        if recording[0]:
            calls.append((model.service_model.endpoint_prefix, model.name, dict(params)))

    operator.events.register("before-parameter-build", record)
    bootstrap.reset()  # the relay's clients, made afresh with the recorder
    bootstrap.wiring().session.events.register("before-parameter-build", record)

    counts = {w.name: w.count for w in failures.status(stage, datetime.now(UTC))}
    assert counts == {
        "stream on-failure bucket": 1, "stream failure queue": 1,
        "staff-notification DLQ": 0, "events DLQ": 0,
    }  # fmt: skip
    out = io.StringIO()
    outcome = failures.Recovery(
        stage, lambda: bootstrap.wiring().stream_relay, out, dry_run=False, discard_lost=False
    ).run()
    assert (outcome.recovered, outcome.kept, outcome.lost) == (2, 0, 0), out.getvalue()
    recording[0] = False
    flow.pipeline.drain()  # the consumers, as Lambda runs them
    assert_exactly_once(flow, ids)  # the same batch recovered twice: one email each

    # A staff notification and a guest-side event that gave up, back from their DLQs.
    emails_before = Counter(e.subject for e in sent_emails())
    requested = next(
        e for e in flow.pipeline.delivered if e["detail-type"] == "ReservationRequested"
    )
    sqs = flow.session.client("sqs")
    for dlq in ("StaffNotificationDeadLetterQueueArn", "EventsDeadLetterQueueArn"):
        sqs.send_message(QueueUrl=stage.queue_url(dlq), MessageBody=json.dumps(requested))
    recording[0] = True
    assert failures.redrive_staff_notifications(stage, out, dry_run=False) == 1
    assert failures.redrive_events(stage, out, dry_run=False) == 1
    recording[0] = False
    flow.pipeline.drain()
    assert Counter(e.subject for e in sent_emails()) == emails_before  # nothing sent twice
    assert all(w.count == 0 for w in failures.status(stage, datetime.now(UTC)))

    denied = [
        (service, operation, action, resource)
        for service, operation, params in calls
        for action, resource in required(service, operation, params)
        if not allowed(operator_policy("test"), action, resource)
    ]
    assert denied == [], denied
    assert {service for service, _, _ in calls} >= {
        "s3", "sqs", "events", "streams.dynamodb", "monitoring",
    }  # fmt: skip
    repairs = stage.client("cloudwatch").list_metrics(Namespace="Reservations")["Metrics"]
    assert {m["MetricName"] for m in repairs} == {"BatchesRecovered", "MessagesRedriven"}
