"""One id through the whole path, and each reservation's timeline: booked, accepted and
cancelled, every step listed in order, each email with whom it went to and SES's id."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.wiring import bootstrap
from tests.app.conftest import guest_request
from tests.pipeline import RES, Flow, sent_emails


class Lines(logging.Handler):
    """Keeps the service's log lines as its own handler formats them (JSON)."""

    def __init__(self, formatter: logging.Formatter | None) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(formatter)
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def service_logs(flow: Flow, monkeypatch: pytest.MonkeyPatch) -> Iterator[Lines]:
    """The service's log lines at INFO (the tests' stage logs WARNING and up)."""
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "INFO")  # for the handlers' loggers, made anew
    bootstrap.reset()
    service = logging.getLogger("reservation-service")
    formatter = service.handlers[0].formatter if service.handlers else None
    lines, level = Lines(formatter), service.level
    service.addHandler(lines)
    service.setLevel(logging.INFO)
    yield lines
    service.removeHandler(lines)
    service.setLevel(level)


def test_a_correlation_id_goes_the_whole_way_and_the_timeline_lists_every_step(
    flow: Flow, service_logs: Lines
) -> None:
    status, booked, headers = flow.api.call(
        "POST", RES, guest_request(), {"X-Correlation-Id": "checkout-42"}
    )
    assert (status, headers["X-Correlation-Id"]) == (201, "checkout-42")
    assert booked["correlation_id"] == "checkout-42"
    flow.pipeline.drain()
    url = f"{RES}/{booked['id']}"
    status, _, headers = flow.api.call("POST", f"{url}/accept", None, {**flow.staff,
                                       "X-Correlation-Id": "desk-7"})  # fmt: skip
    assert (status, headers["X-Correlation-Id"]) == (200, "desk-7")
    flow.pipeline.drain()
    _, _, generated = flow.api.call("POST", f"{url}/cancel", None, flow.staff)
    cancel_id = generated["X-Correlation-Id"]  # no header sent: the API's own request id
    assert cancel_id and cancel_id not in {"checkout-42", "desk-7"}
    flow.pipeline.drain()

    # The emails say which request caused them (staff and the guest hear of the request; staff
    # are not told of their own cancellation).
    emails = [e for e in sent_emails() if e.headers["X-Reservation-Id"] == booked["id"]]
    assert [e.headers["X-Correlation-Id"] for e in emails] == [
        "checkout-42",
        "checkout-42",
        "desk-7",
        cancel_id,
    ]
    # So do the events on the bus and the log lines of every step.
    events = [
        e for e in flow.pipeline.delivered if e["detail"]["reservation"]["id"] == booked["id"]
    ]
    assert [e["detail"]["correlation_id"] for e in events] == ["checkout-42", "desk-7", cancel_id]
    logged = service_logs.lines
    for message in ("request", "event published", "email sent"):
        ids = {line.get("correlation_id") for line in logged if line.get("message") == message}
        assert {"checkout-42", "desk-7"} <= ids, (message, ids)

    status, timeline, _ = flow.api.call("GET", f"{url}/timeline", None, flow.staff)
    assert status == 200 and timeline["status"] == "CANCELLED"
    steps = [(s["what"], s.get("event") or s.get("consumer")) for s in timeline["steps"]]
    # Each "event on the bus" step is written by the daily-totals consumer, which runs after
    # the guest's email here, yet it takes the bus's time: it sorts before the emails it caused.
    assert steps == [
        ("reservation requested", None),
        ("event on the bus", "ReservationRequested"),
        ("email sent", "notify_staff"),
        ("email sent", "notify_guest"),
        ("event on the bus", "ReservationAccepted"),
        ("email sent", "notify_guest"),
        ("event on the bus", "ReservationCancelled"),
        ("email sent", "notify_guest"),
    ]
    [to_staff] = [s for s in timeline["steps"] if s.get("consumer") == "notify_staff"]
    assert to_staff["to"] == "chef@a.example, desk@a.example" and to_staff["message_id"]
    assert to_staff["subject"].startswith("Booking request: Grace Hopper")
    assert [s["at"] for s in timeline["steps"]] == sorted(s["at"] for s in timeline["steps"])
    on_bus = [s for s in timeline["steps"] if s["what"] == "event on the bus"]
    assert [s["correlation_id"] for s in on_bus] == ["checkout-42", "desk-7", cancel_id]
    assert [(s["status"], s["previous_status"]) for s in on_bus] == [
        ("PENDING", ""), ("ACCEPTED", "PENDING"), ("CANCELLED", "ACCEPTED")]  # fmt: skip

    # Every event again: redelivered, and put on the bus anew at a later time (as a replay of
    # the stream does): no second step, and none moved.
    for event in list(flow.pipeline.delivered):
        flow.pipeline.run_bus(event)
        flow.pipeline.run_bus({**event, "time": "2099-01-01T00:00:00Z"})
    again = flow.api.call("GET", f"{url}/timeline", None, flow.staff)[1]
    assert again["steps"] == timeline["steps"]

    # Guests cannot read it; other restaurants' staff cannot either.
    assert flow.api.call("GET", f"{url}/timeline?token={booked['manage_token']}")[0] == 401
    assert flow.api.call("GET", f"{RES}/01M000000000000000000000AA/timeline", None,
                         flow.staff)[0] == 404  # fmt: skip


def test_a_client_correlation_id_that_is_not_one_is_replaced(flow: Flow) -> None:
    status, booked, headers = flow.api.call(
        "POST", RES, guest_request(hhmm="20:00"), {"X-Correlation-Id": "bad id with spaces"}
    )
    assert status == 201 and headers["X-Correlation-Id"] != "bad id with spaces"
    assert booked["correlation_id"] == headers["X-Correlation-Id"]


def emitted_metrics(stdout: str) -> Counter[str]:
    """Sums of the embedded-metric (EMF) lines the handlers printed."""
    totals: Counter[str] = Counter()
    for line in stdout.splitlines():
        try:
            blob = json.loads(line)
        except ValueError:
            continue
        if not isinstance(blob, dict) or "_aws" not in blob:
            continue
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            assert directive["Namespace"] == "Reservations"
            for metric in directive["Metrics"]:
                value = blob[metric["Name"]]  # a list when counted more than once in a flush
                totals[metric["Name"]] += sum(value) if isinstance(value, list) else int(value)
    return totals


def test_metrics_count_each_step_once(flow: Flow, capsys: pytest.CaptureFixture[str]) -> None:
    _, booked, _ = flow.api.call("POST", RES, guest_request(hhmm="21:00"))
    flow.pipeline.drain()
    url = f"{RES}/{booked['id']}"
    flow.api.call("POST", f"{url}/decline", {"reason": "full"}, flow.staff)
    flow.pipeline.drain()
    flow.pipeline.drain()  # nothing left: nothing counted twice
    metrics = emitted_metrics(capsys.readouterr().out)
    assert metrics == Counter(
        {"EventsPublished": 2, "EmailsSent": 3, "ReservationsRequested": 1,
         "ReservationsDeclined": 1}
    )  # fmt: skip
