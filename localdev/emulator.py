"""The embedded AWS (moto in server mode) that `make run` starts, the AWS profile that points
the `local` stage at it, and clients for it. The fixes that make moto behave like AWS, shared
with the tests, are in `localdev.aws_emulation`."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from localdev.aws_emulation import REGION, serialize_dynamodb_requests


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


def write_aws_profile(environment: Mapping[str, str], endpoint: str) -> None:
    """The AWS profile the `local` stage reads (its AWS_CONFIG_FILE, AWS_PROFILE and
    AWS_SHARED_CREDENTIALS_FILE, as `environment` resolves them): endpoint and dummy keys.

    A profile rather than AWS_ENDPOINT_URL because Chalice's stage variables override the shell,
    so the emulator's port, known only at start-up, could not reach `chalice local` otherwise.
    """
    config = Path(environment["AWS_CONFIG_FILE"])
    credentials = Path(environment["AWS_SHARED_CREDENTIALS_FILE"])
    for folder in {config.parent, credentials.parent}:
        folder.mkdir(parents=True, exist_ok=True)
    config.write_text(
        f"[profile {environment['AWS_PROFILE']}]\n"
        f"region = {REGION}\n"
        f"endpoint_url = {endpoint}\n"
        "aws_access_key_id = local\n"
        "aws_secret_access_key = local\n"
    )
    credentials.write_text("")


class EndpointSession:
    """Clients for the emulator (dummy keys, botocore's standard retries)."""

    region_name = REGION

    def __init__(self, endpoint: str) -> None:
        import boto3
        from botocore.config import Config

        self._session: Any = boto3.session.Session(
            aws_access_key_id="local", aws_secret_access_key="local", region_name=REGION
        )
        self._endpoint = endpoint
        self._config = Config(retries={"mode": "standard", "max_attempts": 3})

    def client(self, service: str) -> Any:
        return self._session.client(service, endpoint_url=self._endpoint, config=self._config)


def free_port(host: str = "127.0.0.1") -> int:
    """A loopback port nothing listens on right now."""
    import socket

    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
