"""A stage's variables as `.chalice/config.json` gives them (the config's, then the stage's),
shared by the local runtime and the operator CLI."""

from __future__ import annotations

import json
import os
from pathlib import Path

from chalicelib.wiring.event_sources import StaffSending
from infra import ROOT


def stage_environment(stage: str, project_dir: Path = ROOT) -> dict[str, str]:
    """The variables `chalice local --stage` would set: the config's, then the stage's."""
    config = json.loads((project_dir / ".chalice" / "config.json").read_text())
    return {
        **config.get("environment_variables", {}),
        **config["stages"][stage].get("environment_variables", {}),
    }


def use_stage_environment(stage: str, project_dir: Path = ROOT) -> None:
    """Set this process's environment as Lambda's would be for `stage`, with paths relative
    to `project_dir` as `chalice local` resolves them there. Call it before any boto3
    session exists: botocore reads AWS_CONFIG_FILE once per session."""
    environment = stage_environment(stage, project_dir)
    for name in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        if name in environment:
            environment[name] = str(project_dir / environment[name])
    os.environ.update(environment)
    for direct in ("ADMIN_TOKEN", "SIGNING_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.pop(direct, None)  # the stage reads these from its profile and SSM


def staff_sending(stage: str, project_dir: Path = ROOT) -> StaffSending:
    """The staff queue's sizing for a deployed stage, from the SES rate its variables state
    (SES_MAX_SEND_RATE, read by the function too): both deploy paths apply it."""
    rate = stage_environment(stage, project_dir).get("SES_MAX_SEND_RATE")
    if rate is None:
        raise SystemExit(f"stage {stage}: set SES_MAX_SEND_RATE (emails/s) in .chalice/config.json")
    return StaffSending(float(rate))
