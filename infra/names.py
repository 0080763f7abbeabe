"""Each stage's resource names, in one place for the stack, IAM, packaging and the local
runtime. Chalice names functions the same way (`<app_name>-<stage>-<handler>`)."""

from __future__ import annotations

APP_NAME = "reservations"  # Chalice's app_name in .chalice/config.json


def stack_name(stage: str) -> str:
    """The resources stack; the table, bus and queues are named after it, and so is the API
    handler's function."""
    return f"{APP_NAME}-{stage}"


def secret_parameter(stage: str, secret: str) -> str:
    """The SSM SecureString holding one of the stage's secrets ("admin-token", "signing-key");
    the stage's ADMIN_TOKEN_PARAMETER / SIGNING_KEY_PARAMETER name it (.chalice/config.json,
    checked by tests/infra/test_packaging.py)."""
    return f"/{APP_NAME}/{stage}/{secret}"


def function_name(stage: str, handler: str) -> str:
    """The name Chalice gives an event handler's function (and its rule on the bus)."""
    return f"{stack_name(stage)}-{handler}"
