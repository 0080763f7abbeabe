"""Lambda's stream semantics as the local runner applies them, one rule at a time."""

from __future__ import annotations

import io
from dataclasses import replace
from typing import Any

import pytest

from localdev.console import Console
from localdev.runner import StreamBatches, StreamSettings

SETTINGS = StreamSettings(
    batch_size=100,
    batching_window_seconds=0,
    starting_position="TRIM_HORIZON",
    maximum_retry_attempts=3,
    bisect_on_error=False,
    maximum_record_age_seconds=-1,
    filter_patterns=(),
    reports_batch_item_failures=True,
)


def records(n: int) -> list[dict[str, Any]]:
    return [{"dynamodb": {"SequenceNumber": str(100 + i)}, "n": i} for i in range(n)]


class Handler:
    """Records what it was invoked with; fails as told."""

    def __init__(self, behave: Any) -> None:
        self.calls: list[list[int]] = []
        self._behave = behave

    def __call__(self, batch: list[dict[str, Any]]) -> Any:
        self.calls.append([r["n"] for r in batch])
        return self._behave(batch, len(self.calls))


def run(settings: StreamSettings, handler: Handler, batch: list[dict[str, Any]]) -> list[Any]:
    sent: list[Any] = []
    batches = StreamBatches(
        settings, handler, lambda recs, condition, attempts: sent.append(
            ([r["n"] for r in recs], condition, attempts)
        ), Console(io.StringIO()), "handler",
    )  # fmt: skip
    batches.process(batch)
    return sent


def test_a_successful_batch_is_invoked_once() -> None:
    handler = Handler(lambda batch, call: {"batchItemFailures": []})
    assert run(SETTINGS, handler, records(3)) == []
    assert handler.calls == [[0, 1, 2]]


def test_partial_batch_response_resumes_at_the_lowest_failed_record() -> None:
    def fail_3_and_5_once(batch: list[dict[str, Any]], call: int) -> Any:
        if call == 1:
            return {"batchItemFailures": [{"itemIdentifier": "105"}, {"itemIdentifier": "103"}]}
        return {"batchItemFailures": []}

    handler = Handler(fail_3_and_5_once)
    assert run(SETTINGS, handler, records(6)) == []
    assert handler.calls == [[0, 1, 2, 3, 4, 5], [3, 4, 5]]


def test_without_report_batch_item_failures_the_response_is_ignored() -> None:
    handler = Handler(lambda b, c: {"batchItemFailures": [{"itemIdentifier": "101"}]})
    plain = replace(SETTINGS, reports_batch_item_failures=False)
    assert run(plain, handler, records(3)) == []
    assert handler.calls == [[0, 1, 2]]


def test_an_unknown_item_identifier_fails_the_whole_batch() -> None:
    handler = Handler(
        lambda b, c: {"batchItemFailures": [{"itemIdentifier": "999"}]} if c == 1 else None
    )
    run(SETTINGS, handler, records(2))
    assert handler.calls == [[0, 1], [0, 1]]


def test_retry_limit_then_the_on_failure_destination() -> None:
    handler = Handler(lambda b, c: (_ for _ in ()).throw(RuntimeError("boom")))
    sent = run(SETTINGS, handler, records(2))
    assert handler.calls == [[0, 1]] * 4  # the first try and 3 retries
    assert sent == [([0, 1], "RetryAttemptsExhausted", 4)]


def test_bisect_on_error_isolates_the_poison_record() -> None:
    def poison_is_2(batch: list[dict[str, Any]], call: int) -> Any:
        if any(r["n"] == 2 for r in batch):
            raise ValueError("cannot read record 2")
        return None

    handler = Handler(poison_is_2)
    bisecting = replace(SETTINGS, bisect_on_error=True, maximum_retry_attempts=2)
    sent = run(bisecting, handler, records(4))
    assert handler.calls[:3] == [[0, 1, 2, 3], [0, 1], [2, 3]]
    assert sent == [([2], "RetryAttemptsExhausted", 3)]
    assert [0, 1] in handler.calls and [3] in handler.calls  # the good records got through


def test_partial_failure_retries_count_against_the_limit() -> None:
    handler = Handler(lambda b, c: {"batchItemFailures": [{"itemIdentifier": "101"}]})
    sent = run(replace(SETTINGS, maximum_retry_attempts=1), handler, records(3))
    assert handler.calls == [[0, 1, 2], [1, 2]]
    assert sent == [([1, 2], "RetryAttemptsExhausted", 2)]


@pytest.mark.parametrize("limit", [0, 5])
def test_retry_attempts_setting(limit: int) -> None:
    handler = Handler(lambda b, c: (_ for _ in ()).throw(RuntimeError("x")))
    run(replace(SETTINGS, maximum_retry_attempts=limit), handler, records(1))
    assert len(handler.calls) == limit + 1
