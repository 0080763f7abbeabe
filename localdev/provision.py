"""Creates the service's resources on the emulator from `infra/resources.yaml` (the template
that deploys to AWS), filling in what moto's CloudFormation skips, and stores the secrets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from infra import ROOT
from infra.deploy import wait_for_stack
from infra.names import secret_parameter, stack_name
from infra.package import RESOURCES, resource_parameters
from localdev.aws_emulation import known_gaps_quiet

DEFAULT_SENDER = "reservations@demo-bistro.example"
# What `chalice local` needs of a project: the app, its package and its stage configuration.
PROJECT_FILES = ("app.py", "chalicelib", ".chalice", "requirements.txt")


def scratch_project(directory: Path) -> Path:
    """A throwaway copy of this project (links to its files) for tests and benchmarks: their
    emulator profile and state go there, never into the working copy's `.localdev/`."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        link = directory / name
        if not link.exists():
            link.symlink_to(ROOT / name)
    return directory


def provision(
    session: Any,
    stage: str = "local",
    sender_email: str = DEFAULT_SENDER,
    parameters: dict[str, str] | None = None,
) -> dict[str, str]:
    """Create (or reuse) the resources stack; returns its outputs."""
    cloudformation = session.client("cloudformation")
    name = stack_name(stage)
    existing = {
        s["StackName"]
        for s in cloudformation.list_stacks()["StackSummaries"]
        if s["StackStatus"] != "DELETE_COMPLETE"
    }
    with known_gaps_quiet():
        if name not in existing:
            cloudformation.create_stack(
                StackName=name,
                TemplateBody=RESOURCES.read_text(),
                Parameters=[
                    {"ParameterKey": key, "ParameterValue": value}
                    for key, value in {
                        **resource_parameters(stage),
                        "SenderEmail": sender_email,
                        **(parameters or {}),
                    }.items()
                ],
            )
        outputs = wait_for_stack(cloudformation, name, timeout=30, poll=0.1)
    session.client("dynamodb").update_time_to_live(  # moto ignores TimeToLiveSpecification
        TableName=outputs["TableName"],
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
    )
    session.client("ses").verify_email_identity(EmailAddress=sender_email)
    return outputs


def store_secrets(session: Any, stage: str, admin_token: str, signing_key: str) -> None:
    """Put the stage's secrets where the app reads them in AWS: SSM SecureStrings."""
    ssm = session.client("ssm")
    for name, value in (("admin-token", admin_token), ("signing-key", signing_key)):
        ssm.put_parameter(
            Name=secret_parameter(stage, name), Value=value, Type="SecureString", Overwrite=True
        )
