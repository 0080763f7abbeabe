"""Shared test set-up. The environment is fixed before anything imports app.py, because
Chalice evaluates decorator arguments at import and boto3 reads credentials on first use."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from infra import ROOT

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "TABLE_NAME": "reservations-test",
        "ADMIN_TOKEN": "admin-token-for-tests",
        "SIGNING_KEY": "signing-key-for-tests-0123456789",
        "EVENT_BUS_NAME": "reservations-test",
        "STREAM_FAILURE_QUEUE": "reservations-test-stream-failures",
        "SENDER_EMAIL": "reservations@demo-bistro.example",  # verified by provision()
        "STAFF_NOTIFICATION_QUEUE": "reservations-test-staff-notifications",
        "PUBLIC_BASE_URL": "https://reservations.test",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
)
for leaked in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "ADMIN_TOKEN_PARAMETER", "SIGNING_KEY_PARAMETER"):
    os.environ.pop(leaked, None)


# The working copy's .localdev/ belongs to a `make run` that may be running beside the tests:
# a test run must leave it exactly as it was (tests use scratch projects and folders).
WORKING_STATE = ROOT / ".localdev"
_BEFORE = pytest.StashKey[dict[str, tuple[int, int]]]()


def _state_of(directory: Path) -> dict[str, tuple[int, int]]:
    if not directory.exists():
        return {}
    return {
        str(path.relative_to(directory)): (path.stat().st_mtime_ns, path.stat().st_size)
        for path in directory.rglob("*")
    }


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_BEFORE] = _state_of(WORKING_STATE)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    before = session.config.stash.get(_BEFORE, {})
    after = _state_of(WORKING_STATE)
    if after != before:
        changed = sorted(set(after.items()) ^ set(before.items()))[:5]
        session.config.get_terminal_writer().line(
            f"FAILED: the tests changed the working copy's .localdev/: {changed}", red=True
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
