"""An operator's day on `make run`, driven as a person would: cause an outage with
`python -m localdev.faults`, watch `python -m ops status` say something waits, end the outage,
then `python -m ops recover` / `redrive` — and every email goes out exactly once."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from infra import ROOT
from localdev.emulator import EndpointSession
from tests.e2e.launcher import SLOTS, Runtime, book, launch

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def runtime() -> Iterator[Runtime]:
    yield from launch()


def ops(runtime: Runtime, *argv: str) -> tuple[int, str]:
    result = subprocess.run(
        [sys.executable, "-m", "ops", *argv, "--stage", "local",
         "--project-dir", str(runtime.state / "project")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return result.returncode, result.stdout + result.stderr


def faults(runtime: Runtime, *argv: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "localdev.faults", *argv, "--port", str(runtime.outbox_port)],
        cwd=ROOT, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def eventually(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.5)


def emails_about(runtime: Runtime, names: list[str], kind: str) -> Counter[str]:
    """How many emails of `kind` ("request" for staff, "guest") each named guest has."""
    counts: Counter[str] = Counter()
    for message in runtime.messages():
        to_staff = "staff@demo-bistro.example" in message["to"]
        if (kind == "request") != to_staff:
            continue
        for name in names:
            if name in message["subject"] or name in message.get("text", ""):
                counts[name] += 1
    return counts


def aws(runtime: Runtime) -> EndpointSession:
    return EndpointSession(f"http://127.0.0.1:{runtime.aws_port}")


def test_a_stream_outage_is_recovered_with_one_staff_email_each(runtime: Runtime) -> None:
    assert ops(runtime, "status")[0] == 0
    assert "events:PutEvents=1" in faults(runtime, "set", "events:PutEvents=1.0")
    day = date.today() + timedelta(days=5)
    names = [f"Outage Guest {i}" for i in range(6)]
    booked = [book(runtime, name, day, SLOTS[i]) for i, name in enumerate(names)]

    eventually(lambda: ops(runtime, "status")[0] == 1, 90, "the failed batch in the bucket")
    code, report = ops(runtime, "status")
    assert "stream on-failure bucket" in report and "needs action" in report, report
    assert emails_about(runtime, names, "request") == Counter()  # nothing went out

    assert "none" in faults(runtime, "clear")
    code, dry = ops(runtime, "recover", "--dry-run")
    assert code == 0 and "would publish" in dry, dry
    assert ops(runtime, "status")[0] == 1  # a dry run changes nothing

    # Recover while new bookings keep flowing: nothing is sent twice.
    live_names = [f"Live Guest {i}" for i in range(3)]
    live = threading.Thread(
        target=lambda: [book(runtime, n, day, SLOTS[10 + i]) for i, n in enumerate(live_names)]
    )
    live.start()
    code, recovered = ops(runtime, "recover")
    live.join()
    assert code == 0 and "recovered" in recovered, recovered

    everyone = names + live_names
    eventually(
        lambda: set(emails_about(runtime, everyone, "request")) == set(everyone),
        30,
        "a staff email for every reservation",
    )
    code, again = ops(runtime, "recover")  # twice: nothing left to do
    assert code == 0 and "0 recovered" in again, again
    time.sleep(3)  # give any duplicate the time to show up
    assert emails_about(runtime, everyone, "request") == Counter(dict.fromkeys(everyone, 1))
    assert ops(runtime, "status")[0] == 0
    assert len({b["id"] for b in booked}) == len(names)


def test_a_mail_outage_ends_in_the_staff_dlq_and_is_redriven(runtime: Runtime) -> None:
    faults(runtime, "set", "ses:SendEmail=1.0")
    day = date.today() + timedelta(days=6)
    names = [f"Mailless Guest {i}" for i in range(2)]
    for i, name in enumerate(names):
        book(runtime, name, day, SLOTS[i])

    def dead_lettered() -> bool:
        code, report = ops(runtime, "status")
        staff = "staff-notification DLQ     2 waiting" in report
        return code == 1 and staff and "events DLQ                 2 waiting" in report

    # The guests' receipts fail too: their events wait in the events DLQ.
    eventually(dead_lettered, 120, "both requests in the staff and events DLQs")
    faults(runtime, "clear")
    code, dry = ops(runtime, "redrive", "--dry-run")
    assert code == 0 and "2 message(s) would go back" in dry, dry
    code, done = ops(runtime, "redrive")
    assert code == 0 and "2 message(s)" in done and "2 event(s)" in done, done
    eventually(
        lambda: set(emails_about(runtime, names, "request")) == set(names), 30, "staff emails"
    )
    eventually(
        lambda: set(emails_about(runtime, names, "guest")) == set(names), 30, "guest receipts"
    )
    assert ops(runtime, "redrive")[0] == 0  # twice: the DLQ is empty, nothing is resent
    time.sleep(3)
    assert emails_about(runtime, names, "request") == Counter(dict.fromkeys(names, 1))
    assert emails_about(runtime, names, "guest") == Counter(dict.fromkeys(names, 1))
    assert ops(runtime, "status")[0] == 0


def test_a_guest_notification_outage_is_redriven_from_the_events_dlq(runtime: Runtime) -> None:
    staff = {"Authorization": "Bearer " + runtime.token("staff")}
    day = date.today() + timedelta(days=7)
    name = "Waiting Guest"
    booked = book(runtime, name, day, SLOTS[0])
    eventually(lambda: bool(emails_about(runtime, [name], "request")), 30, "the staff email")
    eventually(lambda: bool(emails_about(runtime, [name], "guest")), 30, "the guest's receipt")
    faults(runtime, "set", "ses:SendEmail=1.0")
    status, _ = runtime.call(
        "POST", f"/restaurants/demo-bistro/reservations/{booked['id']}/accept", headers=staff
    )
    assert status == 200

    def in_events_dlq() -> bool:
        code, report = ops(runtime, "status")
        return code == 1 and "events DLQ                 1 waiting" in report

    eventually(in_events_dlq, 60, "the accepted event in the events DLQ")
    faults(runtime, "clear")
    code, done = ops(runtime, "redrive")
    assert code == 0 and "1 event(s) sent back to the bus" in done, done
    eventually(
        lambda: emails_about(runtime, [name], "guest")[name] == 2, 30, "the guest's confirmation"
    )
    time.sleep(3)
    assert emails_about(runtime, [name], "guest") == Counter({name: 2})  # receipt, confirmation
    # The redriven event reached the daily totals too, and was counted once.
    _, totals = runtime.call("GET", f"/restaurants/demo-bistro/summary?date={day}", headers=staff)
    assert (totals["requested"], totals["accepted"], totals["pending"]) == (1, 1, 0)
    assert ops(runtime, "status")[0] == 0


def test_a_batch_whose_records_left_the_stream_is_reported_lost_and_kept(
    runtime: Runtime,
) -> None:
    session = aws(runtime)
    streams = session.client("dynamodbstreams")
    [listed] = streams.list_streams(TableName="reservations-local")["Streams"]
    description = streams.describe_stream(StreamArn=listed["StreamArn"])["StreamDescription"]
    [shard] = description["Shards"]
    first = int(shard["SequenceNumberRange"]["StartingSequenceNumber"])
    written = int(time.time()) - 3600
    info = {
        "shardId": shard["ShardId"], "streamArn": listed["StreamArn"],
        "startSequenceNumber": str(first - 100), "endSequenceNumber": str(first - 90),
        "approximateArrivalOfFirstRecord": written, "approximateArrivalOfLastRecord": written,
        "batchSize": 11,
    }  # fmt: skip
    sqs = session.client("sqs")
    url = sqs.get_queue_url(QueueName="reservations-local-stream-failures")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"DDBStreamBatchInfo": info}))

    code, report = ops(runtime, "recover")
    assert code == 1 and "LOST" in report, report
    assert f"sequence numbers {first - 100}..{first - 90}" in report
    assert "left the stream" in report
    assert ops(runtime, "status")[0] == 1  # kept: the operator decides
    code, discarded = ops(runtime, "recover", "--discard-lost")
    assert code == 0 and "1 discarded" in discarded, discarded
    assert ops(runtime, "status")[0] == 0


def test_an_old_reservation_is_reindexed_for_the_retention_run(runtime: Runtime) -> None:
    """After an upgrade: a reservation stored before the due index held answered ones."""
    staff = {"Authorization": "Bearer " + runtime.token("staff")}
    day = date.today() + timedelta(days=8)
    booked = book(runtime, "Stored Long Ago", day, SLOTS[0])
    path = f"/restaurants/demo-bistro/reservations/{booked['id']}"
    assert runtime.call("POST", f"{path}/accept", headers=staff)[0] == 200
    eventually(
        lambda: emails_about(runtime, ["Stored Long Ago"], "guest")["Stored Long Ago"] == 2,
        30, "the guest's confirmation",
    )  # fmt: skip
    dynamodb = aws(runtime).client("dynamodb")
    key = {"PK": {"S": "RESTAURANT#demo-bistro"}, "SK": {"S": f"RESERVATION#{booked['id']}"}}
    table = "reservations-local"
    dynamodb.update_item(TableName=table, Key=key, UpdateExpression="REMOVE GSI2PK, GSI2SK")

    code, plan = ops(runtime, "reindex", "--dry-run")
    assert code == 0 and "1 to index (1 under GUEST_DETAILS)" in plan, plan
    code, done = ops(runtime, "reindex")
    assert code == 0 and "1 indexed (1 under GUEST_DETAILS)" in done, done
    item = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
    assert item["GSI2PK"] == {"S": "GUEST_DETAILS"}
    assert "\n0 indexed, " in ops(runtime, "reindex")[1]
    time.sleep(2)  # the key's change went through the stream: no event, no email
    assert emails_about(runtime, ["Stored Long Ago"], "guest")["Stored Long Ago"] == 2
    assert ops(runtime, "status")[0] == 0


def test_clear_errors_without_tracebacks(runtime: Runtime, tmp_path: Any) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ops", "status", "--stage", "local", "--project-dir",
         str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    refused = subprocess.run(
        [sys.executable, "-m", "localdev.faults", "set", "events:PutEvents=2"],
        cwd=ROOT, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert refused.returncode == 2 and "between 0 and 1" in refused.stderr
