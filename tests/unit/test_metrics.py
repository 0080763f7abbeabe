"""The embedded-metric lines are the ones Powertools Metrics printed for the same counts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.adapters.metrics import NAMESPACE, EmfMetrics


def printed(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    for line in lines:
        assert isinstance(line["_aws"].pop("Timestamp"), int)
    return lines


def test_a_flush_prints_what_powertools_printed(capsys: pytest.CaptureFixture[str]) -> None:
    from aws_lambda_powertools import Metrics

    counts = [("EventsPublished", 23), ("EmailsSent", 1), ("EmailsSent", 2)]
    theirs = Metrics(namespace=NAMESPACE, service="relay-test")
    for name, value in counts:
        theirs.add_metric(name=name, unit="Count", value=value)
    theirs.flush_metrics()
    ours = EmfMetrics("relay-test")
    for name, value in counts:
        ours.count(name, value)
    ours.flush()
    expected, got = printed(capsys)
    assert got == expected
    assert got["EventsPublished"] == [23.0] and got["EmailsSent"] == [1.0, 2.0]


def test_nothing_counted_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    metrics = EmfMetrics()
    metrics.count("EventsPublished", 0)
    metrics.flush()
    assert capsys.readouterr().out == ""
    metrics.count("RecordsQuarantined")
    metrics.flush()
    metrics.flush()
    [line] = printed(capsys)
    assert line["RecordsQuarantined"] == [1.0] and line["service"] == "reservation-service"
