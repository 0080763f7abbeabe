"""`make run`'s launcher as a user starts it: a subprocess on free loopback ports, with its
profile and mail in a scratch folder (never the working copy's .localdev/)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from infra import ROOT
from localdev.emulator import free_port
from localdev.provision import scratch_project

# Seatings of the demo restaurant (open every day): lunch 12:00-13:00, dinner 19:00-21:00.
SLOTS = [f"{h:02d}:{m:02d}" for h in (12, 13) for m in (0, 15, 30, 45)][:5]
SLOTS += [f"{h:02d}:{m:02d}" for h in (19, 20) for m in (0, 15, 30, 45)] + ["21:00"]


@dataclass
class Runtime:
    process: subprocess.Popen[str]
    api: str
    api_port: int
    aws_port: int
    banner: str
    outbox_port: int = 0
    console: list[str] = field(default_factory=list)
    state: Path = ROOT  # the scratch project and outbox folder of this launch

    def messages(self) -> list[dict[str, Any]]:
        url = f"http://127.0.0.1:{self.outbox_port}/messages.json"
        with urllib.request.urlopen(url, timeout=5) as response:
            messages: list[dict[str, Any]] = json.loads(response.read())
            return messages

    def wait_for_messages(
        self, predicate: Any, count: int = 1, timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        """Poll the outbox until `count` messages satisfy `predicate`."""
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.messages() if predicate(m)]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.2)

    def token(self, which: str) -> str:
        match = re.search(rf"{which} token\s+(\S+)", self.banner)
        assert match, self.banner
        return match.group(1)

    def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.api + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")


def start(
    env: dict[str, str],
    api_port: int,
    aws_port: int,
    outbox_port: int | None = None,
    state: Path | None = None,
    *extra: str,
) -> subprocess.Popen[str]:
    """`make run`'s launcher, as a subprocess, on the given loopback ports, with its profile
    and mail in `state` (a scratch project, never the working copy's .localdev/)."""
    outbox = free_port() if outbox_port is None else outbox_port
    state = Path(tempfile.mkdtemp(prefix="reservations-e2e-")) if state is None else state
    arguments = ["--api-port", str(api_port), "--aws-port", str(aws_port)]
    arguments += ["--outbox-port", str(outbox)]
    arguments += ["--project-dir", str(scratch_project(state / "project"))]
    arguments += ["--outbox-dir", str(state / "outbox"), *extra]
    return subprocess.Popen(
        [sys.executable, "-m", "localdev.run", *arguments],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_until_serving(process: subprocess.Popen[str], api: str, timeout: float = 60) -> str:
    """Read the banner, then poll the API until it answers."""
    assert process.stdout is not None
    banner: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            raise AssertionError("launcher exited:\n" + "".join(banner))
        banner.append(line)
        if "Ctrl-C stops everything" in line:
            break
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(api + "/restaurants/demo-bistro", timeout=2).close()
            return "".join(banner)
        except OSError:
            time.sleep(0.2)
    raise AssertionError("API never answered:\n" + "".join(banner))


def launch(extra_env: dict[str, str] | None = None) -> Iterator[Runtime]:
    api_port, aws_port, outbox_port = free_port(), free_port(), free_port()
    env = {**os.environ, "LOCAL_STAFF_TOKEN": "stf_e2e-fixed-staff-token", **(extra_env or {})}
    state = Path(tempfile.mkdtemp(prefix="reservations-e2e-"))
    process = start(env, api_port, aws_port, outbox_port, state)
    api = f"http://127.0.0.1:{api_port}"
    try:
        banner = wait_until_serving(process, api)
        runtime = Runtime(process, api, api_port, aws_port, banner, outbox_port, state=state)
        threading.Thread(target=drain, args=(process, runtime.console), daemon=True).start()
        yield runtime
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=20)
        shutil.rmtree(state, ignore_errors=True)


def drain(process: subprocess.Popen[str], lines: list[str]) -> None:
    """Keep reading the launcher's console so its pipe never fills up."""
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line.rstrip("\n"))


def book(runtime: Runtime, name: str, day: date, hhmm: str, party_size: int = 2) -> dict[str, Any]:
    status, body = runtime.call(
        "POST",
        "/restaurants/demo-bistro/reservations",
        {
            "guest": {"name": name, "email": "guest@example.com"},
            "party_size": party_size,
            "starts_at": f"{day}T{hhmm}",
        },
    )
    assert status == 201, body
    return dict(body)
