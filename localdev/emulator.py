"""The embedded AWS (moto in server mode, in a process of its own) that `make run` starts, the
AWS profile that points the `local` stage at it, and clients for it. The fixes that make moto
behave like AWS, shared with the tests, are in `localdev.aws_emulation`; the process itself is
`localdev.aws_server`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from localdev.aws_emulation import REGION


@dataclass(frozen=True)
class SentMessage:
    """A message the emulator's SES accepted (the fields of moto's own record of it)."""

    id: str
    source: str
    raw_data: str


class Emulator:
    """moto in server mode on a loopback port, in its own process (a core of its own: it and
    the event handlers no longer take turns under one GIL)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 4566) -> None:
        self.host, self.port = host, port
        self._process: subprocess.Popen[bytes] | None = None
        self._mail: IO[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        """Start the emulator; returns once it listens (RuntimeError if it cannot)."""
        read, write = os.pipe()
        command = [sys.executable, "-m", "localdev.aws_server", "--host", self.host]
        command += ["--port", str(self.port), "--mail-fd", str(write)]
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,  # closed by stop(), or by the kernel when this process ends
            pass_fds=(write,),
            start_new_session=True,  # Ctrl-C goes to the launcher, which stops it in order
            cwd=Path(__file__).resolve().parent.parent,
        )
        os.close(write)
        self._mail = os.fdopen(read, "rb")
        first = self._mail.readline()
        if not first or json.loads(first).get("event") != "ready":
            self.stop()
            raise RuntimeError(f"the AWS emulator did not start on {self.endpoint}")

    def sent_mail(self) -> Iterator[SentMessage]:
        """Each message SES accepts, the moment it is sent, until stop()."""
        if self._mail is None:
            return
        for line in self._mail:
            message = json.loads(line)
            if message.get("event") == "sent":
                yield SentMessage(message["id"], message["source"], message["raw_data"])

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if self._mail is not None:
            self._mail.close()


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
