"""`python -m ops` says expected conditions in one line, with what to do."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
from botocore.exceptions import ClientError

from localdev.provision import scratch_project
from ops.stage import OpsError, connect, explain


@pytest.fixture(autouse=True)
def environment_kept() -> Iterator[None]:
    """`connect` sets the stage's variables in this process, as the CLI does: undo them."""
    with mock.patch.dict(os.environ):
        yield


def client_error(code: str, message: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "DescribeStacks")


def test_missing_permissions_point_at_the_operator_policy() -> None:
    said = explain(client_error("AccessDenied", "not authorized"), "the stack reservations-prod")
    assert "missing permission" in said and "docs/operations.md" in said


def test_a_stage_that_is_not_deployed_says_so() -> None:
    said = explain(
        client_error("ValidationError", "Stack with id reservations-dev does not exist"),
        "the stack reservations-dev",
    )
    assert said == (
        "the stack reservations-dev does not exist in this account and region: "
        "is the stage deployed?"
    )


def test_no_emulator_running_says_to_start_make_run(tmp_path: Path) -> None:
    project = scratch_project(tmp_path / "project")  # config, but no `make run` profile
    with pytest.raises(OpsError, match="not running.*make run"):
        connect("local", project)


def test_an_unknown_stage_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OpsError, match="unknown stage 'staging'"):
        connect("staging", tmp_path)
