"""A stage's variables as `.chalice/config.json` gives them (the config's, then the stage's),
shared by the local runtime and the operator CLI."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


# How long each deployed stage's Lambda logs are kept (CloudWatch Logs; Lambda's own default
# keeps them forever). They carry ids, never personal data (docs/privacy.md); 30 days covers
# the investigation of a failure, whose DLQ messages wait 14. Written into each stage of
# .chalice/config.json as `log_retention_in_days` by `python -m infra.iam`.
LOG_RETENTION_DAYS = {"dev": 7, "prod": 30}


@dataclass(frozen=True)
class ApiThrottling:
    """API Gateway's stage-wide throttling: a steady rate (requests/s, token bucket refill)
    and a burst (the bucket's size); past them API Gateway answers 429 itself. The first
    guard against a flood; the per-restaurant daily request limits are the second."""

    rate_limit: float
    burst_limit: int

    def method_settings(self) -> list[dict[str, Any]]:
        """For the SAM template's AWS::Serverless::Api (chalice package)."""
        return [
            {
                "ResourcePath": "/*",
                "HttpMethod": "*",
                "ThrottlingRateLimit": self.rate_limit,
                "ThrottlingBurstLimit": self.burst_limit,
            }
        ]

    def patch_operations(self) -> list[dict[str, str]]:
        """For apigateway update_stage (after chalice deploy): every method of the stage."""
        return [
            {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": str(self.rate_limit)},
            {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": str(self.burst_limit)},
        ]


# Both deploy paths read these: one place for each stage's numbers.
API_THROTTLING = {
    "dev": ApiThrottling(rate_limit=20, burst_limit=40),
    "prod": ApiThrottling(rate_limit=200, burst_limit=400),
}


def api_throttling(stage: str) -> ApiThrottling:
    return API_THROTTLING[stage]
