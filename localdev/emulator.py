"""The embedded AWS emulator (moto) and the fixes that make it behave like AWS where it matters.

DynamoDB serialises each request against an item; moto does not. Its TransactWriteItems
deep-copies the table for rollback without a lock: under concurrent requests that copy crashes
("dictionary changed size during iteration", seen here with 40 threads), and a failed
transaction restores its copy over whatever other requests wrote meanwhile.
`serialize_dynamodb_requests` makes every DynamoDB request atomic, as in AWS, so concurrency
tests measure this service and not the emulator.
"""

from __future__ import annotations

import functools
import logging
import threading
from pathlib import Path
from typing import Any

REGION = "eu-west-1"
_dynamodb_lock = threading.RLock()


def serialize_dynamodb_requests() -> None:
    """Make each moto DynamoDB request atomic (idempotent; safe to call repeatedly)."""
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.call_action
    if getattr(original, "_serialized", False):
        return

    @functools.wraps(original)
    def call_action(self: Any) -> Any:
        with _dynamodb_lock:
            return original(self)

    call_action._serialized = True  # type: ignore[attr-defined]
    setattr(DynamoHandler, "call_action", call_action)  # noqa: B010 - patching a class


class Emulator:
    """moto in server mode on a loopback port."""

    def __init__(self, host: str = "127.0.0.1", port: int = 4566) -> None:
        self.host, self.port = host, port
        self._server: Any = None

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        from moto.server import ThreadedMotoServer

        serialize_dynamodb_requests()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
        self._server = ThreadedMotoServer(ip_address=self.host, port=self.port, verbose=False)
        self._server.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


def write_aws_profile(directory: Path, endpoint: str, profile: str = "reservations-local") -> None:
    """The AWS config the `local` stage reads (AWS_CONFIG_FILE): endpoint and dummy keys.

    A profile rather than AWS_ENDPOINT_URL because Chalice's stage variables override the shell,
    so the emulator's port, known only at start-up, could not reach `chalice local` otherwise.
    """
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config").write_text(
        f"[profile {profile}]\n"
        f"region = {REGION}\n"
        f"endpoint_url = {endpoint}\n"
        "aws_access_key_id = local\n"
        "aws_secret_access_key = local\n"
    )
    (directory / "credentials").write_text("")
