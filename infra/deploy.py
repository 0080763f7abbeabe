"""`chalice deploy`, scripted: `python -m infra.deploy --stage dev` (teardown: `--delete`).

1. Create or update the resources stack (infra/resources.yaml) and wait for it.
2. Write its outputs (stream ARN, bus, queue) into the stage's variables in .chalice/config.json.
3. `chalice deploy --stage <stage>`; then write the API's URL (PUBLIC_BASE_URL, for the links
   in emails) into the stage and deploy again if it changed.
4. Apply what Chalice's decorators cannot express, from chalicelib/wiring/event_sources.py, the same
   source `chalice package` uses: the stream and queue mappings' settings
   (update_event_source_mapping), the on_cw_event handlers' rules on the service's bus with
   retry policy and DLQ, and their asynchronous-invocation retries and DLQ; and the API
   stage's throttling from infra/stages.py (update_stage); the API function's log retention
   (Chalice names the log group it makes for `log_retention_in_days` after `api_handler`, not
   after the API's function, `reservations-<stage>`).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from chalicelib.wiring.event_sources import (
    DAILY_SUMMARY,
    GUEST_NOTIFICATIONS,
    RESERVATION_STREAM,
    STAFF_NOTIFICATIONS,
    BusSubscription,
)
from infra import ROOT
from infra.names import function_name, stack_name
from infra.package import RESOURCES, resource_parameters
from infra.stages import LOG_RETENTION_DAYS, api_throttling, staff_sending

CONFIG = ROOT / ".chalice" / "config.json"


def deploy_resources(
    cloudformation: Any, stage: str, parameters: dict[str, str] | None = None
) -> dict[str, str]:
    """Create or update the stack; returns its outputs."""
    name = stack_name(stage)
    arguments = {
        "StackName": name,
        "TemplateBody": RESOURCES.read_text(),
        "Parameters": [
            {"ParameterKey": k, "ParameterValue": v}
            for k, v in {**resource_parameters(stage), **(parameters or {})}.items()
        ],
    }
    try:
        cloudformation.describe_stacks(StackName=name)
        exists = True
    except cloudformation.exceptions.ClientError:
        exists = False
    if exists:
        try:
            cloudformation.update_stack(**arguments)
        except cloudformation.exceptions.ClientError as error:
            if "No updates are to be performed" not in str(error):
                raise
    else:
        cloudformation.create_stack(**arguments)
    return wait_for_stack(cloudformation, name)


def wait_for_stack(
    cloudformation: Any, name: str, timeout: float = 1800, poll: float = 5
) -> dict[str, str]:
    """Wait until the stack settles; its outputs, or RuntimeError if it failed or rolled back."""
    deadline = time.monotonic() + timeout
    while True:
        stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
        status = stack["StackStatus"]
        if status.endswith("_COMPLETE") and "ROLLBACK" not in status:
            return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        if status.endswith(("FAILED", "ROLLBACK_COMPLETE")) or time.monotonic() > deadline:
            raise RuntimeError(f"stack {name}: {status} {stack.get('StackStatusReason', '')}")
        time.sleep(poll)


def write_stage_variables(stage: str, variables: dict[str, str], config: Path = CONFIG) -> bool:
    """Set variables of the stage in .chalice/config.json; True if anything changed."""
    document = json.loads(config.read_text())
    environment = document["stages"][stage].setdefault("environment_variables", {})
    changed = any(environment.get(k) != v for k, v in variables.items())
    environment.update(variables)
    config.write_text(json.dumps(document, indent=2) + "\n")
    return changed


def outputs_as_variables(outputs: dict[str, str]) -> dict[str, str]:
    return {
        "TABLE_STREAM_ARN": outputs["TableStreamArn"],
        "EVENT_BUS_NAME": outputs["EventBusName"],
        "STAFF_NOTIFICATION_QUEUE": outputs["StaffNotificationQueueName"],
        "TABLE_NAME": outputs["TableName"],
    }


def apply_mapping_settings(lambda_client: Any, stage: str, outputs: dict[str, str]) -> None:
    """The stream and queue mappings' settings, as `chalice package` writes them."""
    stream = RESERVATION_STREAM.lambda_settings() | {
        "DestinationConfig": {
            "OnFailure": {"Destination": outputs[f"{RESERVATION_STREAM.on_failure_destination}Arn"]}
        }
    }
    for handler, settings in (
        (RESERVATION_STREAM.handler, stream),
        (STAFF_NOTIFICATIONS.handler, STAFF_NOTIFICATIONS.lambda_settings(staff_sending(stage))),
    ):
        listed = lambda_client.list_event_source_mappings(
            FunctionName=function_name(stage, handler)
        )["EventSourceMappings"]
        if not listed:
            raise RuntimeError(f"{function_name(stage, handler)} has no event source mapping")
        for mapping in listed:
            lambda_client.update_event_source_mapping(UUID=mapping["UUID"], **settings)


def subscribe_on_bus(
    events: Any, lambda_client: Any, stage: str, outputs: dict[str, str],
    subscription: BusSubscription,
) -> None:  # fmt: skip
    """The on_cw_event handler's rule on the service's bus (Chalice puts it on the default
    bus), with EventBridge's retries and DLQ, and Lambda's async retries and DLQ."""
    function = lambda_client.get_function(FunctionName=function_name(stage, subscription.handler))
    function_arn = function["Configuration"]["FunctionArn"]
    rule = function_name(stage, subscription.handler)
    rule_arn = events.put_rule(
        Name=rule,
        EventBusName=outputs["EventBusName"],
        EventPattern=json.dumps(subscription.pattern),
    )["RuleArn"]
    events.put_targets(
        Rule=rule,
        EventBusName=outputs["EventBusName"],
        Targets=[
            {
                "Id": "handler",
                "Arn": function_arn,
                "RetryPolicy": subscription.rule_retry_policy,
                "DeadLetterConfig": {"Arn": outputs["EventsDeadLetterQueueArn"]},
            }
        ],
    )
    try:
        lambda_client.add_permission(
            FunctionName=function_arn,
            StatementId=f"{rule}-invoke",
            Action="lambda:InvokeFunction",
            Principal="events.amazonaws.com",
            SourceArn=rule_arn,
        )
    except lambda_client.exceptions.ResourceConflictException:
        pass  # granted by an earlier deploy
    lambda_client.put_function_event_invoke_config(
        FunctionName=function_arn,
        MaximumRetryAttempts=subscription.maximum_retry_attempts,
        MaximumEventAgeInSeconds=subscription.maximum_event_age_seconds,
        DestinationConfig={"OnFailure": {"Destination": outputs["EventsDeadLetterQueueArn"]}},
    )


def apply_api_throttling(apigateway: Any, stage: str, rest_api_id: str, api_stage: str) -> None:
    """The stage's throttling on every method of Chalice's REST API stage, as `chalice
    package` writes it in MethodSettings."""
    apigateway.update_stage(
        restApiId=rest_api_id,
        stageName=api_stage,
        patchOperations=api_throttling(stage).patch_operations(),
    )


def deployed_rest_api(stage: str, project_dir: Path = ROOT) -> tuple[str, str]:
    """The REST API's id (as chalice deploy recorded it) and its API Gateway stage name."""
    chalice_dir = project_dir / ".chalice"
    deployed = json.loads((chalice_dir / "deployed" / f"{stage}.json").read_text())
    config = json.loads((chalice_dir / "config.json").read_text())
    api_stage = config["stages"][stage].get(
        "api_gateway_stage", config.get("api_gateway_stage", "api")
    )
    for resource in deployed["resources"]:
        if resource.get("resource_type") == "rest_api":
            return str(resource["rest_api_id"]), str(api_stage)
    raise RuntimeError("chalice deploy recorded no REST API")


def apply_api_log_retention(logs: Any, stage: str) -> None:
    """The stage's log retention on the API function's own log group (made now if Lambda has
    not made it yet); the other functions' groups Chalice makes with it."""
    group = f"/aws/lambda/{stack_name(stage)}"
    try:
        logs.create_log_group(logGroupName=group)
    except logs.exceptions.ResourceAlreadyExistsException:
        pass
    logs.put_retention_policy(logGroupName=group, retentionInDays=LOG_RETENTION_DAYS[stage])


def post_deploy(
    session: Any, stage: str, outputs: dict[str, str], rest_api: tuple[str, str] | None = None
) -> None:
    """`rest_api`: (id, stage name) of the REST API; read from .chalice/deployed when None."""
    lambda_client = session.client("lambda")
    apply_mapping_settings(lambda_client, stage, outputs)
    rest_api_id, api_stage = rest_api or deployed_rest_api(stage)
    apply_api_throttling(session.client("apigateway"), stage, rest_api_id, api_stage)
    apply_api_log_retention(session.client("logs"), stage)
    for subscription in (GUEST_NOTIFICATIONS, DAILY_SUMMARY):
        subscribe_on_bus(session.client("events"), lambda_client, stage, outputs, subscription)


def chalice(*arguments: str) -> None:
    executable = Path(sys.executable).parent / "chalice"
    subprocess.run([str(executable), *arguments], cwd=ROOT, check=True)


def api_url(stage: str) -> str:
    deployed = json.loads((ROOT / ".chalice" / "deployed" / f"{stage}.json").read_text())
    for resource in deployed["resources"]:
        if resource.get("resource_type") == "rest_api":
            return str(resource["rest_api_url"]).rstrip("/")
    raise RuntimeError("chalice deploy recorded no REST API")


def main(argv: list[str] | None = None) -> int:
    import boto3

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stage", required=True, choices=("dev", "prod"))
    parser.add_argument("--alert-email", default="")
    parser.add_argument("--sender-email", default="reservations@demo-bistro.example")
    parser.add_argument("--delete", action="store_true", help="tear the stage down")
    args = parser.parse_args(argv)
    session = boto3.session.Session()
    if args.delete:
        chalice("delete", "--stage", args.stage)
        session.client("cloudformation").delete_stack(StackName=stack_name(args.stage))
        return 0
    parameters = {"AlertEmail": args.alert_email, "SenderEmail": args.sender_email}
    outputs = deploy_resources(session.client("cloudformation"), args.stage, parameters)
    write_stage_variables(args.stage, {**outputs_as_variables(outputs),
                                       "SENDER_EMAIL": args.sender_email})  # fmt: skip
    chalice("deploy", "--stage", args.stage)
    if write_stage_variables(args.stage, {"PUBLIC_BASE_URL": api_url(args.stage)}):
        chalice("deploy", "--stage", args.stage)
    post_deploy(session, args.stage, outputs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
