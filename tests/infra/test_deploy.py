"""The `chalice deploy` path's own steps against the emulator: the resources stack, the stage
variables, and the post-deploy settings on the emulator's Lambda and EventBridge APIs.
(`chalice deploy` itself cannot run here: moto fails at API Gateway's ImportRestApi.)"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chalicelib.wiring.event_sources import (
    DAILY_SUMMARY,
    FUNCTION_MEMORY_MB,
    FUNCTION_TIMEOUT_SECONDS,
    GUEST_NOTIFICATIONS,
    LAMBDA_ARCHITECTURE,
    RESERVATION_STREAM,
    STAFF_NOTIFICATIONS,
)
from infra import ROOT
from infra.deploy import (
    deploy_resources,
    outputs_as_variables,
    post_deploy,
    write_stage_variables,
)
from infra.names import function_name
from infra.stages import LOG_RETENTION_DAYS, api_throttling, staff_sending
from localdev.aws_emulation import known_gaps_quiet


@pytest.fixture
def aws() -> Iterator[Any]:
    with mock_aws():
        yield boto3.session.Session()


@pytest.fixture
def stack(aws: Any) -> dict[str, str]:
    with known_gaps_quiet():
        return deploy_resources(aws.client("cloudformation"), "dev", {"AlertEmail": "oncall@x.io"})


def test_the_resources_stack_deploys_and_redeploys(aws: Any, stack: dict[str, str]) -> None:
    table = aws.client("dynamodb").describe_table(TableName=stack["TableName"])["Table"]
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["GSI1", "GSI2"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=stack["StaffNotificationQueueName"])["QueueUrl"]
    redrive = json.loads(
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])["Attributes"][
            "RedrivePolicy"
        ]
    )
    assert redrive["maxReceiveCount"] == 5
    visibility = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])
    assert visibility["Attributes"]["VisibilityTimeout"] == "180"  # 6 x notify_staff's 30 s
    topics = aws.client("sns").list_topics()["Topics"]
    assert [t["TopicArn"] for t in topics] == [stack["OnCallTopicArn"]]
    events = aws.client("events")
    staff_rule = "reservations-dev-staff-notifications"
    [target] = events.list_targets_by_rule(Rule=staff_rule, EventBusName=stack["EventBusName"])[
        "Targets"
    ]
    assert target["RetryPolicy"] == GUEST_NOTIFICATIONS.rule_retry_policy  # the one source
    s3 = aws.client("s3")
    bucket = stack["StreamFailureBucketName"]
    encryption = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    assert encryption["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    # moto's CloudFormation applies a bucket's encryption only: the public access block and
    # the lifecycle rule are checked in the template (tests/infra/test_packaging.py).
    [archive] = events.list_archives()["Archives"]
    assert (archive["ArchiveName"], archive["RetentionDays"]) == ("reservations-dev", 14)
    dashboards = aws.client("cloudwatch").list_dashboards()["DashboardEntries"]
    assert [d["DashboardName"] for d in dashboards] == ["reservations-dev"]
    with known_gaps_quiet():
        again = deploy_resources(aws.client("cloudformation"), "dev", {"AlertEmail": "oncall@x.io"})
    assert again == stack


def test_outputs_become_the_stages_variables(stack: dict[str, str], tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"stages": {"dev": {"environment_variables": {"A": "1"}}}}))
    assert write_stage_variables("dev", outputs_as_variables(stack), config) is True
    assert write_stage_variables("dev", outputs_as_variables(stack), config) is False
    variables = json.loads(config.read_text())["stages"]["dev"]["environment_variables"]
    assert variables["TABLE_STREAM_ARN"] == stack["TableStreamArn"]
    assert variables["EVENT_BUS_NAME"] == "reservations-dev" and variables["A"] == "1"


def rest_api_as_chalice_deploys_it(aws: Any) -> tuple[str, str]:
    """Chalice's REST API and its stage "api", with no throttling of its own."""
    apigateway = aws.client("apigateway")
    api_id = apigateway.create_rest_api(name="reservations")["id"]
    [root] = apigateway.get_resources(restApiId=api_id)["items"]
    apigateway.put_method(restApiId=api_id, resourceId=root["id"], httpMethod="GET",
                          authorizationType="NONE")  # fmt: skip
    apigateway.put_integration(restApiId=api_id, resourceId=root["id"], httpMethod="GET",
                               type="MOCK")  # fmt: skip
    apigateway.create_deployment(restApiId=api_id, stageName="api")
    return api_id, "api"


def functions_as_chalice_deploys_them(aws: Any, stack: dict[str, str]) -> None:
    """What `chalice deploy` leaves behind: functions and plain event source mappings."""
    role = aws.client("iam").create_role(
        RoleName="lambda", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17"})
    )["Role"]["Arn"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("app.py", "def handler(event, context):\n    return None\n")
    lambda_client = aws.client("lambda")
    for handler in ("publish_reservation_events", "notify_staff", "notify_guest",
                    "update_daily_summary"):  # fmt: skip
        lambda_client.create_function(
            FunctionName=function_name("dev", handler), Runtime="python3.11", Role=role,
            Handler="app.handler", Code={"ZipFile": archive.getvalue()},
        )  # fmt: skip
    lambda_client.create_event_source_mapping(
        FunctionName=function_name("dev", RESERVATION_STREAM.handler),
        EventSourceArn=stack["TableStreamArn"], StartingPosition="TRIM_HORIZON", BatchSize=100,
    )  # fmt: skip
    lambda_client.create_event_source_mapping(
        FunctionName=function_name("dev", STAFF_NOTIFICATIONS.handler),
        EventSourceArn=stack["StaffNotificationQueueArn"], BatchSize=10,
    )  # fmt: skip


def test_post_deploy_applies_what_decorators_cannot_express(
    aws: Any, stack: dict[str, str]
) -> None:
    functions_as_chalice_deploys_them(aws, stack)
    rest_api = rest_api_as_chalice_deploys_it(aws)
    post_deploy(aws, "dev", stack, rest_api)
    post_deploy(aws, "dev", stack, rest_api)  # idempotent: a second deploy changes nothing

    [group] = aws.client("logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/")[
        "logGroups"
    ]  # the API function's (Chalice's own deploy makes the others', named after each)
    assert (group["logGroupName"], group["retentionInDays"]) == (
        "/aws/lambda/reservations-dev", LOG_RETENTION_DAYS["dev"])  # fmt: skip

    api_stage = aws.client("apigateway").get_stage(restApiId=rest_api[0], stageName="api")
    throttling = api_throttling("dev")
    assert api_stage["methodSettings"]["*/*"]["throttlingRateLimit"] == throttling.rate_limit
    assert api_stage["methodSettings"]["*/*"]["throttlingBurstLimit"] == throttling.burst_limit

    lambda_client = aws.client("lambda")
    [stream] = lambda_client.list_event_source_mappings(
        FunctionName=function_name("dev", RESERVATION_STREAM.handler)
    )["EventSourceMappings"]
    for name, value in RESERVATION_STREAM.lambda_settings().items():
        assert stream[name] == value, name
    assert (
        stream["DestinationConfig"]["OnFailure"]["Destination"] == stack["StreamFailureBucketArn"]
    )
    [queue] = lambda_client.list_event_source_mappings(
        FunctionName=function_name("dev", STAFF_NOTIFICATIONS.handler)
    )["EventSourceMappings"]
    assert queue["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    sending = staff_sending("dev")
    assert queue["ScalingConfig"] == {"MaximumConcurrency": sending.maximum_concurrency}
    assert queue["BatchSize"] == sending.batch_size

    events = aws.client("events")
    for subscription in (GUEST_NOTIFICATIONS, DAILY_SUMMARY):
        rule = f"reservations-dev-{subscription.handler}"
        described = events.describe_rule(Name=rule, EventBusName=stack["EventBusName"])
        assert json.loads(described["EventPattern"]) == subscription.pattern
        [target] = events.list_targets_by_rule(Rule=rule, EventBusName=stack["EventBusName"])[
            "Targets"
        ]
        assert target["Arn"].endswith(function_name("dev", subscription.handler))
        assert target["DeadLetterConfig"]["Arn"] == stack["EventsDeadLetterQueueArn"]
        assert target["RetryPolicy"]["MaximumRetryAttempts"] == 185
        invoke = lambda_client.get_function_event_invoke_config(
            FunctionName=function_name("dev", subscription.handler)
        )
        assert invoke["MaximumRetryAttempts"] == subscription.maximum_retry_attempts
        assert (
            invoke["DestinationConfig"]["OnFailure"]["Destination"]
            == (stack["EventsDeadLetterQueueArn"])
        )


def test_post_deploy_refuses_a_stage_without_mappings(aws: Any, stack: dict[str, str]) -> None:
    with pytest.raises(Exception, match="no event source mapping|Function not found"):
        post_deploy(aws, "dev", stack, ("unused", "api"))


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_chalice_deploy_gives_each_function_its_memory_timeout_and_architecture(
    stage: str,
) -> None:
    """What `chalice deploy` reads for each function (its deployer passes these to
    create_function, update_function_configuration and update_function_code, the last with
    Architectures, so an x86_64 function already deployed moves to arm64)."""
    from chalice.config import Config

    disk = json.loads((ROOT / ".chalice" / "config.json").read_text())
    for function, memory in FUNCTION_MEMORY_MB.items():
        config = Config(chalice_stage=stage, function_name=function, config_from_disk=disk)
        assert config.lambda_memory_size == memory, function
        assert config.lambda_timeout == FUNCTION_TIMEOUT_SECONDS[function], function
        assert config.lambda_architecture == LAMBDA_ARCHITECTURE == "arm64", function
        assert config.reserved_concurrency is None, function  # the decision: docs/deploy.md
        assert config.log_retention_in_days == LOG_RETENTION_DAYS[stage], function
