"""Creates the service's resources on the emulator from `infra/resources.yaml` (the template
that deploys to AWS) and seeds the demo restaurant."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "infra" / "resources.yaml"


def provision(session: Any, stage: str = "local") -> dict[str, str]:
    """Create (or reuse) the resources stack; returns its outputs."""
    cloudformation = session.client("cloudformation")
    stack_name = f"reservations-{stage}"
    existing = {
        s["StackName"]
        for s in cloudformation.list_stacks()["StackSummaries"]
        if s["StackStatus"] != "DELETE_COMPLETE"
    }
    if stack_name not in existing:
        cloudformation.create_stack(
            StackName=stack_name,
            TemplateBody=TEMPLATE.read_text(),
            Parameters=[{"ParameterKey": "Stage", "ParameterValue": stage}],
        )
    stack = _wait(cloudformation, stack_name)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    # moto's CloudFormation ignores TimeToLiveSpecification: apply it directly.
    session.client("dynamodb").update_time_to_live(
        TableName=outputs["TableName"],
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
    )
    return outputs


def _wait(cloudformation: Any, stack_name: str, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        stack: dict[str, Any] = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
        status = stack["StackStatus"]
        if status.endswith("_COMPLETE") and "ROLLBACK" not in status:
            return stack
        if "FAILED" in status or "ROLLBACK" in status or time.monotonic() > deadline:
            raise RuntimeError(
                f"stack {stack_name} ended {status}: {stack.get('StackStatusReason')}"
            )
        time.sleep(0.1)


def store_secrets(session: Any, stage: str, admin_token: str, signing_key: str) -> None:
    """Put the stage's secrets where the app reads them in AWS: SSM SecureStrings."""
    ssm = session.client("ssm")
    for name, value in (("admin-token", admin_token), ("signing-key", signing_key)):
        ssm.put_parameter(
            Name=f"/reservations/{stage}/{name}", Value=value, Type="SecureString", Overwrite=True
        )
