"""End-to-end latency on the local runtime: POST a booking -> the staff email visible in the
outbox, over N reservations at concurrency 1 and 8, with the emulator's own floor (a bare
PutItem round trip) measured in the same run, and throughput until the pipeline drains.

Each round also counts the CPU each process spent and the requests the emulator answered, per
booking: what bounds the drain on this machine's cores (the second table)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import NamedTuple

from bench.common import Table, children_of, cpu_seconds, median, percentile
from infra import ROOT
from localdev.aws_server import REQUESTS_PATH
from localdev.binding import demo_seating_times
from localdev.emulator import free_port
from localdev.provision import scratch_project

SLOTS = demo_seating_times()


class Runtime:
    """`make run`'s launcher as a subprocess on free ports."""

    def __init__(self) -> None:
        self.api_port, self.aws_port, self.outbox_port = free_port(), free_port(), free_port()
        ports = [
            "--api-port",
            str(self.api_port),
            "--aws-port",
            str(self.aws_port),
            "--outbox-port",
            str(self.outbox_port),
        ]
        # Its profile and mail go to a scratch project, never the working copy's .localdev/.
        self.state = Path(tempfile.mkdtemp(prefix="reservations-bench-"))
        ports += ["--project-dir", str(scratch_project(self.state / "project"))]
        ports += ["--outbox-dir", str(self.state / "outbox")]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "localdev.run", *ports],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if "Ctrl-C stops everything" in line:
                break
        self.emails: dict[str, float] = {}  # guest name in a staff email's subject -> seen at
        threading.Thread(target=self._drain, daemon=True).start()
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{self.api}/restaurants/demo-bistro", timeout=2).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def processes(self) -> dict[str, int]:
        """The launcher (it runs the event handlers) and its two children, by role."""
        found = {"handlers (launcher)": self.process.pid}
        for child in children_of(self.process.pid):
            command = Path(f"/proc/{child}/cmdline").read_bytes()
            if b"localdev.aws_server" in command:
                found["emulator"] = child
            elif b"localdev.api_server" in command:
                found["API (chalice local)"] = child
        return found

    def requests(self) -> dict[str, int]:
        """The emulator's requests so far, by operation (REQUESTS_PATH)."""
        url = f"http://127.0.0.1:{self.aws_port}{REQUESTS_PATH}"
        with urllib.request.urlopen(url, timeout=5) as response:
            counts: dict[str, int] = json.load(response)
        return counts

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def _drain(self) -> None:
        """Read the console: its `email` line appears the moment the outbox has a message
        (polling messages.json instead would make the outbox render every message, over and
        over, in the process that runs the handlers being measured)."""
        assert self.process.stdout is not None
        for line in self.process.stdout:
            words = line.split(None, 3)
            if len(words) == 4 and words[1] == "email" and words[2] == "to":
                subject = words[3].split(": ", 1)[-1]
                self.emails.setdefault(subject.split(": ", 1)[-1].split(",")[0], time.monotonic())

    def book(self, name: str, day: date, hhmm: str) -> None:
        """One booking, its guest's email its own (the demo restaurant takes 1,000 requests a
        day for one email address, 2,000 from one client)."""
        body = json.dumps(
            {
                "guest": {"name": name, "email": f"{name.lower()}@example.com"},
                "party_size": 1,
                "starts_at": f"{day}T{hhmm}",
            }
        ).encode()
        request = urllib.request.Request(
            f"{self.api}/restaurants/demo-bistro/reservations",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 201

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=30)
        shutil.rmtree(self.state, ignore_errors=True)


class Spent:
    """CPU per process and emulator requests over a stretch of a run (this process, the load
    generator, included)."""

    LOAD = "load generator (this process)"

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._pids = runtime.processes()
        self._cpu = self._now()
        self._requests = runtime.requests()

    def _now(self) -> dict[str, float]:
        spent = {name: cpu_seconds(pid) for name, pid in self._pids.items()}
        return spent | {self.LOAD: time.process_time()}

    def per(self, count: int) -> tuple[dict[str, float], dict[str, float]]:
        """(CPU ms by process, requests by operation), each per one of `count` bookings."""
        now, requests = self._now(), self._runtime.requests()
        cpu = {name: (now[name] - self._cpu[name]) * 1000 / count for name in now}
        calls = {op: (n - self._requests.get(op, 0)) / count for op, n in requests.items()}
        return cpu, {op: n for op, n in calls.items() if n}


class Round(NamedTuple):
    latencies: list[float]  # s, booked -> staff email seen
    drained: float  # s, first booking -> last email
    emails: int  # staff emails seen
    booked: int
    cpu: dict[str, float]  # ms per booking, by process
    requests: dict[str, float]  # emulator requests per booking, by operation

    @property
    def rate(self) -> float:
        return self.emails / self.drained


class Floor(NamedTuple):
    """A bare PutItem round trip."""

    wall: float  # s, median
    client_ms: float  # CPU in the calling client (botocore)
    emulator_ms: float  # CPU in the emulator (moto)


def _round(
    runtime: Runtime,
    prefix: str,
    count: int,
    concurrency: int,
    first_day: int,
    pace: float = 0.0,
) -> Round:
    """Book `count` reservations, and see their staff emails out."""
    spent = Spent(runtime)
    sent: dict[str, float] = {}
    names = [f"{prefix}{i:03d}" for i in range(count)]

    def one(i: int) -> None:
        name = names[i]
        day = date.today() + timedelta(days=first_day + i // len(SLOTS))
        if pace:
            time.sleep(max(0.0, began + i * pace - time.monotonic()))
        started = time.monotonic()
        runtime.book(name, day, SLOTS[i % len(SLOTS)])
        sent[name] = started

    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(one, range(count)))
    deadline = time.monotonic() + 120
    while not all(n in runtime.emails for n in names) and time.monotonic() < deadline:
        time.sleep(0.05)
    seen = {n: runtime.emails[n] for n in names if n in runtime.emails}
    drained = max(seen.values()) - began if seen else float("nan")
    latencies = [seen[n] - sent[n] for n in sent if n in seen]
    time.sleep(1.0)  # the handlers' work after the last staff email (guest email, totals)
    return Round(latencies, drained, len(seen), count, *spent.per(count))


def _putitem_floor(runtime: Runtime, samples: int = 100) -> Floor:
    """A bare PutItem round trip: the client is botocore as sped up for the handlers; the
    emulator's CPU is per request it answered, so the runtime's idle polls meanwhile do not
    count."""
    import boto3

    from localdev.client_speedups import speed_up_clients

    speed_up_clients()
    client = boto3.client(
        "dynamodb",
        endpoint_url=f"http://127.0.0.1:{runtime.aws_port}",
        region_name="eu-west-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )

    def put(i: int) -> None:
        client.put_item(
            TableName="reservations-local", Item={"PK": {"S": f"BENCH#{i}"}, "SK": {"S": "X"}}
        )

    put(-1)  # the client's first call builds its connection and caches
    emulator = runtime.processes()["emulator"]
    times = []
    answered = sum(runtime.requests().values())
    client_cpu, emulator_cpu = time.thread_time(), cpu_seconds(emulator)
    for i in range(samples):
        started = time.monotonic()
        put(i)
        times.append(time.monotonic() - started)
    client_ms = (time.thread_time() - client_cpu) * 1000 / samples
    emulator_cpu = cpu_seconds(emulator) - emulator_cpu
    emulator_ms = emulator_cpu * 1000 / (sum(runtime.requests().values()) - answered - 1)
    return Floor(median(times), client_ms, emulator_ms)


ROUNDS = {  # label -> (clients, pace in s between bookings, first day ahead)
    "1, unpaced": (1, 0.0, 2),
    "8, unpaced": (8, 0.0, 22),
    "4, paced 10/s": (4, 0.1, 45),
}


def run(count: int = 200, repeats: int = 3) -> list[Table]:
    """Each round `repeats` times, the rounds in turn (so the machine's drift hits them
    alike); each figure is the median of its round's repeats."""
    env_before = dict(os.environ)
    runtime = Runtime()
    results: dict[str, list[Round]] = {label: [] for label in ROUNDS}
    try:
        floors = [_putitem_floor(runtime)]
        for repeat in range(repeats):
            for n, (label, (clients, pace, first_day)) in enumerate(ROUNDS.items()):
                booked = max(10, count // 2) if pace else count  # paced: count / 20 seconds
                prefix = f"R{repeat}{n}-"
                results[label].append(
                    _round(runtime, prefix, booked, clients, first_day, pace=pace)
                )
            floors.append(_putitem_floor(runtime))
    finally:
        runtime.stop()
        os.environ.clear()
        os.environ.update(env_before)
    floor = Floor(*(median(measured) for measured in zip(*floors, strict=True)))
    table = Table(
        f"End to end on the local runtime: POST -> staff email in the outbox ({count} bookings"
        f" a round, medians of {repeats} interleaved runs)",
        ["clients, load", "p50 ms", "p95 ms", "p99 ms", "emails", "drained in s", "bookings/s",
         "bookings/s, each run"],
    )  # fmt: skip
    for label, runs in results.items():
        rates = [r.rate for r in runs]
        table.add(
            label,
            *(f"{median([percentile(r.latencies, p) for r in runs]) * 1000:.0f}"
              for p in (50, 95, 99)),
            f"{sum(r.emails for r in runs)}/{sum(r.booked for r in runs)}",
            f"{median([r.drained for r in runs]):.1f}",
            f"{median(rates):.1f}",
            ", ".join(f"{rate:.1f}" for rate in rates),
        )  # fmt: skip
    table.notes.append(
        f"emulator floor: a bare PutItem round trip, median {floor.wall * 1e3:.1f} ms (measured "
        "before the first run and after each)"
    )
    table.notes.append(
        "unpaced rounds post as fast as the API answers, faster than the local pipeline "
        "drains: their bookings/s is the drain rate, their latencies mostly queueing; the "
        "paced round offers 10 bookings/s"
    )
    table.notes.append(
        "the stream mapping's batching window is 1 s (as deployed), the largest part of each "
        "paced latency; an email counts as seen when the launcher's console reports it"
    )
    return [table, _cpu_table(results["8, unpaced"], floor)]


def _cpu_table(runs: list[Round], floor: Floor) -> Table:
    """Where a drained booking's CPU goes (medians over the runs), and the drain rate the
    machine's cores allow."""
    cpu = {name: median([r.cpu[name] for r in runs]) for name in runs[0].cpu}
    operations = {op for r in runs for op in r.requests}
    requests = {op: median([r.requests.get(op, 0.0) for r in runs]) for op in operations}
    rate = median([r.rate for r in runs])
    cores = os.cpu_count() or 1
    table = Table(
        f"CPU per booking on the local runtime ({runs[0].booked} bookings, 8 clients, unpaced; "
        f"medians over {len(runs)} run(s))",
        ["process", "CPU ms per booking", "share"],
    )
    total = sum(cpu.values())
    for name, ms in sorted(cpu.items(), key=lambda item: -item[1]):
        table.add(name, f"{ms:.1f}", f"{ms / total:.0%}")
    table.add("**total**", f"**{total:.1f}**", "100%")
    calls = sum(requests.values())
    bare = floor.client_ms + floor.emulator_ms
    listed = ", ".join(f"{op} {n:.2f}" for op, n in sorted(requests.items(), key=lambda i: -i[1]))
    table.notes += [
        f"emulator requests per booking: {calls:.1f} ({listed}); the idle polls of the "
        "runtime's pollers are among them",
        f"a bare PutItem round trip costs {bare:.2f} ms of CPU: {floor.client_ms:.2f} in the "
        f"client (botocore) and {floor.emulator_ms:.2f} in the emulator (moto)",
        f"bound by this machine's {cores} cores: {cores} x 1000 ms / {total:.1f} ms = "
        f"{cores * 1000 / total:.1f} bookings/s if every core were busy all the time; "
        f"measured {rate:.1f}",
        f"the requests alone, each at a bare PutItem's CPU: {calls:.1f} x {bare:.2f} = "
        f"{calls * bare:.1f} ms a booking, {cores * 1000 / (calls * bare):.0f} bookings/s at "
        "most if the handlers, the API and the load generator did nothing else",
    ]
    return table


if __name__ == "__main__":
    for result in run(*(int(a) for a in sys.argv[1:3])):
        print(result.text())  # noqa: T201
