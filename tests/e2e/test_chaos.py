"""Chaos on the local runtime: reservations requested, accepted, declined and cancelled while
AWS calls fail and handlers crash part-way through their batches. Every effect must still
happen exactly once: one staff email per request and per guest cancellation, one guest email
per step, daily totals equal to a recount of the reservations, every dead-letter queue empty
once the operator's commands have run.

`make test` runs it with CHAOS_RESERVATIONS=60; `make chaos` with 500.
"""

from __future__ import annotations

import os
import re
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest

from tests.e2e.launcher import SLOTS, Runtime, launch
from tests.e2e.test_operations import eventually, ops

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

RESERVATIONS = int(os.environ.get("CHAOS_RESERVATIONS", "60"))
HANDLERS = ("publish_reservation_events", "notify_staff", "notify_guest", "update_daily_summary")
# notify_guest and update_daily_summary are invoked once an event; the stream handler about
# once a batching window (1 s) and notify_staff once a batch of a few messages: their crashes
# are likelier, and the bookings are spread over BOOKING_SECONDS, so that even a bounded run
# crashes every handler (unless each of a dozen or more invocations escapes: under 0.1%).
CRASHES = dict.fromkeys(HANDLERS, 0.1) | {"publish_reservation_events": 0.5, "notify_staff": 0.4}
BOOKING_SECONDS = 12
FAULTS = ",".join(
    ["events:PutEvents=0.2", "ses:SendEmail=0.2", "sqs:DeleteMessage=0.1"]
    + [f"handler:{name}={rate}" for name, rate in CRASHES.items()]
)
STAFF = "staff@demo-bistro.example"
# Staff emails are in the restaurant's French; the guests ask for English.
STAFF_REQUEST = "Demande de réservation\u00a0: "
STAFF_GUEST_CANCELLED = "Annulée par le client\u00a0: "
GUEST_SUBJECTS = {
    "received": r"^Request received: ",
    "accepted": r"^Confirmed: ",
    "declined": r" was declined$",
    "cancelled": r"^Cancelled: ",
}
FIRST_DAY = 2  # days ahead (this test has an emulator of its own)
# Spread over enough days that no seating fills (40 covers) and within the 60-day window.
DAYS = min(55, max(12, RESERVATIONS // 10))


@dataclass
class Booking:
    n: int
    id: str
    manage_token: str
    day: date
    party_size: int
    plan: str  # declined | accepted | accepted, cancelled | cancelled | pending

    @property
    def guest(self) -> str:
        return f"Chaos {self.n:04d}"

    @property
    def email(self) -> str:
        return f"chaos-{self.n:04d}@example.com"

    def expected_guest_emails(self) -> Counter[str]:
        steps = ["received", *[s for s in self.plan.split(", ") if s != "pending"]]
        return Counter(steps)


PLANS = ("declined", "accepted", "accepted", "accepted, cancelled", "cancelled", "pending")


@pytest.fixture(scope="module")
def chaos() -> Iterator[Runtime]:
    yield from launch({"LOCAL_FAULTS": FAULTS})


def run_plan(runtime: Runtime, n: int, start: float) -> Booking:
    """Book (at the n-th of RESERVATIONS moments over BOOKING_SECONDS from `start`), then do
    what the plan says at once (the pipeline is still busy with the request)."""
    time.sleep(max(0.0, start + n * BOOKING_SECONDS / RESERVATIONS - time.monotonic()))
    day = date.today() + timedelta(days=FIRST_DAY + n % DAYS)
    party = 1 + n % 3
    status, body = runtime.call(
        "POST",
        "/restaurants/demo-bistro/reservations",
        {
            "guest": {"name": f"Chaos {n:04d}", "email": f"chaos-{n:04d}@example.com"},
            "party_size": party,
            "starts_at": f"{day}T{SLOTS[n // DAYS % len(SLOTS)]}",
            "language": "en",
        },
        headers={"Idempotency-Key": f"chaos-{n}"},
    )
    assert status == 201, body
    booking = Booking(n, body["id"], body["manage_token"], day, party, PLANS[n % len(PLANS)])
    url = f"/restaurants/demo-bistro/reservations/{booking.id}"
    staff = {"Authorization": "Bearer " + runtime.token("staff")}
    for step in booking.plan.split(", "):
        if step == "accepted":
            answer = runtime.call("POST", url + "/accept", headers=staff)
        elif step == "declined":
            answer = runtime.call("POST", url + "/decline", {"reason": "Complet"}, headers=staff)
        elif step == "cancelled":
            answer = runtime.call("POST", f"{url}/cancel?token={booking.manage_token}")
        else:
            continue
        assert answer[0] == 200, answer
    return booking


def email_counts(runtime: Runtime, bookings: list[Booking]) -> tuple[Counter[Any], int]:
    """(emails per (booking, kind), emails about nobody we know)."""
    by_guest = {b.guest: b for b in bookings}
    by_address = {b.email: b for b in bookings}
    counts: Counter[Any] = Counter()
    strangers = 0
    for message in runtime.messages():
        subject = message["subject"]
        if STAFF in message["to"]:
            kind = "staff request" if subject.startswith(STAFF_REQUEST) else (
                "staff cancelled" if subject.startswith(STAFF_GUEST_CANCELLED) else None
            )  # fmt: skip
            name = subject.split("\u00a0: ", 1)[-1].split(",")[0]
            if kind and name in by_guest:
                counts[by_guest[name].n, kind] += 1
            continue
        [to] = message["to"] or [""]
        booking = by_address.get(to)
        kinds = [k for k, pattern in GUEST_SUBJECTS.items() if re.search(pattern, subject)]
        if booking is None or len(kinds) != 1:
            strangers += 1
            continue
        counts[booking.n, kinds[0]] += 1
    return counts, strangers


def expected_counts(bookings: list[Booking]) -> Counter[Any]:
    expected: Counter[Any] = Counter()
    for b in bookings:
        expected[b.n, "staff request"] = 1
        if "cancelled" in b.plan:
            expected[b.n, "staff cancelled"] = 1
        for kind, count in b.expected_guest_emails().items():
            expected[b.n, kind] = count
    return expected


@pytest.mark.timeout(300 + RESERVATIONS * 2)
def test_every_effect_once_under_failing_calls_and_crashing_handlers(chaos: Runtime) -> None:
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        bookings = list(pool.map(lambda n: run_plan(chaos, n, started), range(RESERVATIONS)))
    booked_in = time.monotonic() - started
    expected = expected_counts(bookings)
    emails = sum(expected.values())

    # While the faults last, most effects happen through retries; some wait in a DLQ until the
    # operator redrives them. Wait for most of them, or until nothing more arrives for a while.
    progress = {"sent": -1, "since": time.monotonic()}

    def faults_so_far() -> Counter[str]:
        return Counter(
            match.group(1)
            for line in list(chaos.console)
            if (match := re.search(r" fault\s+(\S+) failed \(injected\)", line))
        )

    def settled() -> bool:
        counts, _ = email_counts(chaos, bookings)
        sent = sum(min(counts[k], v) for k, v in expected.items())
        if sent != progress["sent"]:
            progress.update(sent=sent, since=time.monotonic())
        done = sent >= emails * 0.9 or time.monotonic() - progress["since"] > 20
        # ...and every handler has crashed at least once (asserted below): a run whose retries
        # paused early would otherwise end this phase before some handler ran at all.
        crashed = {f"handler:{name}" for name in HANDLERS} <= set(faults_so_far())
        return done and crashed

    eventually(settled, 120 + RESERVATIONS * 0.6, "the faults' retries to run their course")
    injected = faults_so_far()
    assert {f"handler:{name}" for name in HANDLERS} <= set(injected), injected

    # The operator's turn: faults off, then what waits is redriven and recovered.
    with_faults = time.monotonic() - started
    chaos_faults_clear(chaos)
    for _ in range(3):
        assert ops(chaos, "redrive")[0] == 0
        assert ops(chaos, "recover")[0] == 0
        counts, strangers = email_counts(chaos, bookings)
        if all(counts[k] >= v for k, v in expected.items()):
            break
        time.sleep(10)  # in-progress claims of crashed runs expire with their invocation
    eventually(lambda: all(email_counts(chaos, bookings)[0][k] >= v for k, v in expected.items()),
               120, "every expected email")  # fmt: skip
    time.sleep(5)  # a late duplicate would show up now
    counts, strangers = email_counts(chaos, bookings)
    missing = {k: v for k, v in expected.items() if counts[k] < v}
    duplicates = {k: counts[k] for k in counts if counts[k] > expected.get(k, 0)}
    assert (missing, duplicates, strangers) == ({}, {}, 0)

    code, status = ops(chaos, "status")
    assert code == 0, status  # every DLQ and the failure queue empty
    assert_totals_equal_a_recount(chaos, bookings)
    print(  # noqa: T201 - the figures for docs/reliability.md (make chaos runs with -s)
        f"\nchaos: {RESERVATIONS} reservations, {emails} emails expected, "
        f"{sum(counts.values())} sent, 0 missing, 0 duplicates, DLQs empty; booked in "
        f"{booked_in:.0f} s, through the faults in {with_faults:.0f} s, all settled in "
        f"{time.monotonic() - started:.0f} s; faults injected: "
        + ", ".join(f"{k} {v}" for k, v in sorted(injected.items()))
    )


def chaos_faults_clear(runtime: Runtime) -> None:
    import subprocess
    import sys

    from infra import ROOT

    done = subprocess.run(
        [sys.executable, "-m", "localdev.faults", "clear", "--port", str(runtime.outbox_port)],
        cwd=ROOT, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def assert_totals_equal_a_recount(runtime: Runtime, bookings: list[Booking]) -> None:
    staff = {"Authorization": "Bearer " + runtime.token("staff")}
    for day in sorted({b.day for b in bookings}):
        status, sheet = runtime.call(
            "GET", f"/restaurants/demo-bistro/reservations?date={day}", headers=staff
        )
        assert status == 200
        statuses = Counter(r["status"].lower() for r in sheet["reservations"])
        recount = {
            "requested": len(sheet["reservations"]),
            **{s: statuses[s] for s in ("pending", "accepted", "declined", "cancelled")},
            "covers_booked": sum(
                r["party_size"]
                for r in sheet["reservations"]
                if r["status"] in ("PENDING", "ACCEPTED")
            ),
        }
        status, summary = runtime.call(
            "GET", f"/restaurants/demo-bistro/summary?date={day}", headers=staff
        )
        assert status == 200
        assert {k: summary.get(k, 0) for k in recount} == recount, day
