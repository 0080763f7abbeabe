"""Connecting to a stage: `local` is the emulator `make run` started (found through the AWS
profile it wrote for the local stage), `dev` and `prod` are AWS through your own profile and
region, as for `python -m infra.deploy`."""

from __future__ import annotations

import configparser
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from infra import ROOT
from infra.names import stack_name
from infra.stages import stage_environment, use_stage_environment

STAGES = ("local", "dev", "prod")


class OpsError(Exception):
    """An expected condition, said in one line (no traceback): unknown stage, emulator not
    running, missing permissions, no stack."""


@dataclass
class Stage:
    name: str
    session: Any
    outputs: dict[str, str]

    def client(self, service: str) -> Any:
        return self.session.client(service)

    def queue_url(self, output: str) -> str:
        """The URL of the queue a stack output names by ARN (e.g. "StreamFailureQueueArn")."""
        name = self.outputs[output].rsplit(":", 1)[1]
        return str(self.client("sqs").get_queue_url(QueueName=name)["QueueUrl"])


def connect(stage: str, project_dir: Path = ROOT, profile: str | None = None) -> Stage:
    if stage not in STAGES:
        raise OpsError(f"unknown stage {stage!r}: one of {', '.join(STAGES)}")
    if not (project_dir / ".chalice" / "config.json").is_file():
        raise OpsError(f"{project_dir} is not this project (no .chalice/config.json)")
    if stage == "local":
        use_stage_environment("local", project_dir)
        _emulator_answers(Path(os.environ["AWS_CONFIG_FILE"]), os.environ["AWS_PROFILE"])
    else:
        # The handlers' own settings (bus, table, queues), as Lambda has them for the stage.
        variables = stage_environment(stage, project_dir)
        os.environ.update({k: v for k, v in variables.items() if not k.startswith("AWS_")})
        if profile:
            os.environ["AWS_PROFILE"] = profile
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    import boto3
    import botocore.exceptions

    try:
        session = boto3.session.Session()
    except botocore.exceptions.ProfileNotFound as error:
        raise OpsError(str(error)) from None
    if not session.region_name:
        raise OpsError("no AWS region: set AWS_REGION or use a profile that names one")
    return Stage(stage, session, _outputs(session, stage))


def _emulator_answers(config_file: Path, profile: str) -> None:
    parser = configparser.ConfigParser()
    if not parser.read(config_file) or f"profile {profile}" not in parser:
        raise OpsError(
            f"the local emulator is not running: no profile {profile!r} in {config_file}; "
            "start it with `make run`"
        )
    endpoint = urlparse(parser[f"profile {profile}"].get("endpoint_url", ""))
    try:
        socket.create_connection((endpoint.hostname or "", endpoint.port or 80), timeout=2).close()
    except OSError:
        raise OpsError(
            f"the local emulator is not running: nothing answers on {endpoint.geturl()}; "
            "start it with `make run`"
        ) from None


def _outputs(session: Any, stage: str) -> dict[str, str]:
    import botocore.exceptions

    name = stack_name(stage)
    try:
        stacks = session.client("cloudformation").describe_stacks(StackName=name)["Stacks"]
    except botocore.exceptions.NoCredentialsError:
        raise OpsError("no AWS credentials: use a profile (--profile) or set them") from None
    except botocore.exceptions.ClientError as error:
        raise OpsError(explain(error, f"the stack {name}")) from None
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}


def explain(error: Any, what: str) -> str:
    """A ClientError in one line, with what to do about the usual ones."""
    code = error.response.get("Error", {}).get("Code", "")
    message = error.response.get("Error", {}).get("Message", "")
    if code in {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}:
        return (
            f"missing permission for {what}: {message} "
            "(the operator policy is in docs/operations.md)"
        )
    if code == "ValidationError" and "does not exist" in message:
        return f"{what} does not exist in this account and region: is the stage deployed?"
    return f"{what}: {code}: {message}"
