"""Lambda's CPU model: cold starts and warm invocations inside the CPU share Lambda gives each
memory size, enforced by the kernel's CFS bandwidth controller (cgroup v1 `cpu.cfs_quota_us`
or v2 `cpu.max`; needs root).

What AWS documents (docs/performance.md cites the pages): Lambda allocates CPU in proportion to
memory, one vCPU's worth at 1,769 MB; the Init phase (runtime start, extensions, the handler
module's import) is capped at 10 s, after which Lambda retries it within the first invocation
under the function's timeout; since 1 August 2025 Init is billed like the invocation. AWS does
not document any other CPU share during Init, so the model applies the memory's share to the
whole cold start (what the documents say) and also shows, as a bound, the cold start with Init
on a whole core (if Init were given more than the documented share).

Each measurement is a fresh interpreter on the real deployment.zip (bytecode shipped, as
`make package` builds it) against the emulator, which runs outside the quota as DynamoDB, SES
and EventBridge run outside the function in AWS. Three functions, each its own process, as
each Lambda function is its own execution environment:

- api: import app, the first POST of a reservation, then warm POSTs;
- relay: import app, the first stream batch of 100 records, then warm batches;
- consumer: import app, the first guest email (notify_guest: Babel, the wording, SES), then
  warm emails;
- summary: import app, the first update of the day's totals (update_daily_summary), then warm.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import Table, bench_environment, median
from infra import ROOT

FULL_VCPU_MB = 1769  # AWS: "At 1,769 MB, a function has the equivalent of one vCPU"
MEMORY_SIZES = (128, 256, 512, 1024, 1769)
CFS_PERIOD_US = 100_000
FUNCTIONS = ("api", "relay", "consumer", "summary")
BASELINE = 0  # "memory size" of the unconstrained runs (a whole core of this machine)


def cpu_quota_us(memory_mb: int, period_us: int = CFS_PERIOD_US) -> int:
    """Lambda's CPU share for `memory_mb`, as CFS quota per `period_us`."""
    return round(period_us * memory_mb / FULL_VCPU_MB)


@dataclass(frozen=True)
class CpuController:
    """Where this machine lets us cap a process's CPU, or why not."""

    version: str | None  # "v1", "v2", or None when no controller is usable
    root: Path | None
    reason: str = ""

    @property
    def usable(self) -> bool:
        return self.version is not None


def detect(base: Path = Path("/sys/fs/cgroup")) -> CpuController:
    """Find a writable CPU controller: cgroup v1's cpu hierarchy, else v2's unified one."""
    for v1 in (base / "cpu", base / "cpu,cpuacct"):
        if (v1 / "cpu.cfs_quota_us").exists():
            if os.access(v1, os.W_OK):
                return CpuController("v1", v1)
            return CpuController(None, None, f"{v1} is not writable (run as root)")
    controllers = base / "cgroup.controllers"
    if controllers.exists():
        if "cpu" not in controllers.read_text().split():
            return CpuController(None, None, "cgroup v2 without the cpu controller")
        if not os.access(base, os.W_OK):
            return CpuController(None, None, f"{base} is not writable (run as root)")
        return CpuController("v2", base)
    return CpuController(None, None, "no cgroup CPU controller mounted")


@contextmanager
def cpu_share(controller: CpuController, memory_mb: int) -> Iterator[Path]:
    """A child cgroup holding Lambda's CPU share for `memory_mb`; removed on the way out, even
    on failure. Yields the file a process writes its pid into to join it."""
    assert controller.root is not None
    group = controller.root / f"reservations-bench-{os.getpid()}-{memory_mb}"
    quota = cpu_quota_us(memory_mb)
    group.mkdir()
    try:
        if controller.version == "v1":
            (group / "cpu.cfs_period_us").write_text(str(CFS_PERIOD_US))
            (group / "cpu.cfs_quota_us").write_text(str(quota))
            yield group / "cgroup.procs"
        else:
            subtree = controller.root / "cgroup.subtree_control"
            if "cpu" not in subtree.read_text().split():
                subtree.write_text("+cpu")
            (group / "cpu.max").write_text(f"{quota} {CFS_PERIOD_US}")
            yield group / "cgroup.procs"
    finally:
        _remove(group)


def _remove(group: Path) -> None:
    # The child has exited when we get here, but the kernel may take a moment to drop it.
    for _ in range(50):
        try:
            group.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.02)
    group.rmdir()  # still busy after a second: fail loudly rather than leave it behind


def run_in_share(
    command: list[str], join: Path | None, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """Run `command` with its whole life inside the cgroup whose procs file is `join` (None:
    unconstrained). A shell joins, then execs, so no Python runs before the cap applies."""
    if join is not None:
        quoted = " ".join(_quote(part) for part in command)
        command = ["/bin/sh", "-c", f"echo $$ > {_quote(str(join))} && exec {quoted}"]
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"benchmark child failed ({result.returncode}): {result.stderr[-2000:]}")
    return result


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


CHILD = """
import time
started = time.time()
import json, os, sys
timings = {"runtime_start": started - float(os.environ["BENCH_SPAWNED_AT"])}
kind, warm_count = os.environ["BENCH_FUNCTION"], int(os.environ["BENCH_WARM"])
payloads = json.loads(open(os.environ["BENCH_PAYLOADS"]).read())

class Context:
    function_name = "reservations-bench-" + kind
    function_version = "$LATEST"
    memory_limit_in_mb = 1769
    aws_request_id = "bench"
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:bench"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "bench"
    def get_remaining_time_in_millis(self):
        return 20000

t = time.perf_counter()
import app
timings["init"] = time.perf_counter() - t

def invoke(payload):
    if kind == "api":
        response = app.app(payload, Context())
        assert response["statusCode"] == 201, response
    elif kind == "relay":
        assert app.publish_reservation_events(payload, Context()) == {"batchItemFailures": []}
    elif kind == "consumer":
        app.notify_guest(payload, Context())
    else:
        app.update_daily_summary(payload, Context())

durations = []
for payload in payloads[: 1 + warm_count]:
    t = time.perf_counter()
    invoke(payload)
    durations.append(time.perf_counter() - t)
timings["first"], timings["warm"] = durations[0], durations[1:]
timings["peak_rss_mb"] = [int(line.split()[1]) / 1024 for line in open("/proc/self/status")
                          if line.startswith("VmHWM")][0]
print(json.dumps(timings))
"""


@dataclass
class Sample:
    runtime_start: float
    init: float
    first: float
    warm: float  # the median of this run's warm invocations
    peak_rss_mb: float

    @property
    def cold(self) -> float:
        """What the caller waits for: runtime start, the import, the first invocation."""
        return self.runtime_start + self.init + self.first


@dataclass
class Measured:
    """Samples by function and memory size (BASELINE: unconstrained), interleaved."""

    controller: CpuController
    runs: int
    warm_count: int
    sizes: tuple[int, ...]
    samples: dict[tuple[str, int], list[Sample]] = field(default_factory=dict)

    def median_of(self, function: str, memory_mb: int, part: str) -> float:
        """Seconds (or MB for peak_rss_mb): the median over runs."""
        values = self.samples[(function, memory_mb)]
        return median([getattr(s, part) for s in values])

    def cold_with_init_on_a_core(self, function: str, memory_mb: int) -> float:
        """The bound: Init as fast as the unconstrained runs, the first invocation at the share."""
        return (
            self.median_of(function, BASELINE, "runtime_start")
            + self.median_of(function, BASELINE, "init")
            + self.median_of(function, memory_mb, "first")
        )


def _api_event(restaurant_id: str, body: dict[str, Any]) -> dict[str, Any]:
    resource = "/restaurants/{restaurant_id}/reservations"
    headers = {"content-type": "application/json", "idempotency-key": str(uuid.uuid4())}
    return {
        "resource": resource,
        "path": f"/restaurants/{restaurant_id}/reservations",
        "httpMethod": "POST",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"restaurant_id": restaurant_id},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": "POST",
            "stage": "api",
            "identity": {"sourceIp": "203.0.113.7"},
        },
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


class Payloads:
    """Distinct invocations for every child: bookings in free seatings, fresh stream records,
    events for reservations no consumer has seen (so none is skipped as a duplicate)."""

    def __init__(self) -> None:
        from localdev.binding import DEMO_ID, demo_seating_times

        self.restaurant = DEMO_ID
        self.times = demo_seating_times()
        self.booked = 0

    def api(self, count: int) -> list[dict[str, Any]]:
        day = datetime.now(UTC).date() + timedelta(days=2)
        events = []
        for _ in range(count):
            n, self.booked = self.booked, self.booked + 1
            starts_at = f"{day + timedelta(days=n // len(self.times) % 50)}T"
            starts_at += self.times[n % len(self.times)]
            body = {
                "guest": {"name": f"Guest {n}", "email": "guest@example.com"},
                "party_size": 1,
                "starts_at": starts_at,
            }
            events.append(_api_event(self.restaurant, body))
        return events

    def relay(self, count: int) -> list[dict[str, Any]]:
        from bench.stream_throughput import records

        return [{"Records": records(100)} for _ in range(count)]

    def summary(self, count: int) -> list[dict[str, Any]]:
        return self.consumer(count)

    def consumer(self, count: int) -> list[dict[str, Any]]:
        from bench.stream_throughput import records
        from chalicelib.adapters.stream import event_from_record

        events = []
        for record in records(count):
            event = event_from_record(record)
            assert event is not None
            events.append(
                {
                    "version": "0",
                    "id": str(uuid.uuid4()),
                    "detail-type": event.detail_type,
                    "source": "reservations",
                    "account": "123456789012",
                    "time": "2026-12-01T18:00:00Z",
                    "region": "eu-west-1",
                    "resources": [],
                    "detail": json.loads(event.model_dump_json()),
                }
            )
        return events


def run(runs: int = 3, warm: int = 5, sizes: tuple[int, ...] = MEMORY_SIZES) -> Measured:
    """Every function at every size and unconstrained, `runs` rounds, interleaved."""
    from bench.cold_start import _unpack
    from infra.package import package, this_machine_architecture
    from localdev.binding import seed_demo
    from localdev.emulator import Emulator, EndpointSession, free_port
    from localdev.provision import provision

    bench_environment()
    controller = detect()
    if not controller.usable:
        print(  # noqa: T201
            f"Lambda CPU model unavailable ({controller.reason}): "
            "every size below is the unconstrained figure"
        )
    measured = Measured(controller, runs, warm, sizes)
    workdir = Path(tempfile.mkdtemp(prefix="lambda-cpu-"))
    emulator = Emulator(port=free_port())
    try:
        # Built for this machine (the shipped zip is arm64): the benchmark imports it here.
        sam = package("prod", workdir / "dist", this_machine_architecture())
        code = _unpack(sam.parent / "deployment.zip", workdir / "code", compiled=True)
        emulator.start()
        _discard_sent_mail(emulator)
        session = EndpointSession(emulator.endpoint)
        provision(session, stage="bench")
        seed_demo(session.client("dynamodb"), "reservations-bench", "bench-staff-token")
        env = {**os.environ, "AWS_ENDPOINT_URL": emulator.endpoint,
               "PYTHONPATH": f"{code}{os.pathsep}{ROOT}"}  # fmt: skip
        payloads = Payloads()
        for function in FUNCTIONS:  # discarded: fills the page cache, as Lambda's cache is warm
            _child(controller, BASELINE, function, getattr(payloads, function)(2), 1, code, env)
        for _ in range(runs):
            for function in FUNCTIONS:
                for memory_mb in (BASELINE, *sizes):
                    batch = getattr(payloads, function)(1 + warm)
                    sample = _child(controller, memory_mb, function, batch, warm, code, env)
                    measured.samples.setdefault((function, memory_mb), []).append(sample)
    finally:
        emulator.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return measured


def _discard_sent_mail(emulator: Any) -> None:
    """Read the emulator's sent mail as it comes (unread, it would fill the pipe and stall
    SES), when this emulator reports it."""
    sent_mail = getattr(emulator, "sent_mail", None)
    if sent_mail is None:
        return
    import threading

    def drain() -> None:
        for _ in sent_mail():
            pass

    threading.Thread(target=drain, name="discard-sent-mail", daemon=True).start()


def _child(
    controller: CpuController,
    memory_mb: int,
    function: str,
    payloads: list[dict[str, Any]],
    warm: int,
    code: Path,
    env: dict[str, str],
) -> Sample:
    with tempfile.NamedTemporaryFile("w", suffix=".json") as file:
        json.dump(payloads, file)
        file.flush()
        child_env = {**env, "BENCH_FUNCTION": function, "BENCH_WARM": str(warm),
                     "BENCH_PAYLOADS": file.name}  # fmt: skip
        command = [sys.executable, "-B", "-c", CHILD]

        def spawn(join: Path | None) -> subprocess.CompletedProcess[str]:
            child_env["BENCH_SPAWNED_AT"] = repr(time.time())
            return run_in_share(command, join, cwd=code, env=child_env, timeout=300)

        if memory_mb == BASELINE or not controller.usable:
            result = spawn(None)
        else:
            with cpu_share(controller, memory_mb) as join:
                result = spawn(join)
    timings = json.loads(result.stdout.strip().splitlines()[-1])
    return Sample(
        runtime_start=timings["runtime_start"],
        init=timings["init"],
        first=timings["first"],
        warm=median(timings["warm"]) if timings["warm"] else float("nan"),
        peak_rss_mb=timings["peak_rss_mb"],
    )


LABELS = {
    "api": "API (POST a reservation)",
    "relay": "stream relay (batch of 100 records)",
    "consumer": "consumer (one guest email)",
    "summary": "consumer (the day's totals)",
}


def table(measured: Measured) -> Table:
    constrained = measured.controller.usable
    how = (
        f"CFS quota per 100 ms, cgroup {measured.controller.version}"
        if constrained
        else "NOT constrained: " + measured.controller.reason
    )
    result = Table(
        f"Lambda CPU model: cold start and warm invocation per memory size ({how})",
        ["function", "memory MB", "CPU share", "runtime start ms", "init ms", "first ms",
         "cold start ms", "cold, init on a core ms", "warm ms", "× warm at 1769",
         "peak RSS MB"],
    )  # fmt: skip
    for function in FUNCTIONS:
        top = measured.sizes[-1]
        warm_top = measured.median_of(function, top, "warm")
        for memory_mb in (BASELINE, *measured.sizes):

            def ms(part: str, size: int = memory_mb, of: str = function) -> str:
                return f"{measured.median_of(of, size, part) * 1000:.0f}"

            share = "machine core" if memory_mb == BASELINE else f"{memory_mb / FULL_VCPU_MB:.1%}"
            warm = measured.median_of(function, memory_mb, "warm")
            result.add(
                LABELS[function] if memory_mb == BASELINE else "",
                "unconstrained" if memory_mb == BASELINE else memory_mb,
                share,
                ms("runtime_start"),
                ms("init"),
                ms("first"),
                ms("cold"),
                "–"
                if memory_mb == BASELINE
                else f"{measured.cold_with_init_on_a_core(function, memory_mb) * 1000:.0f}",
                ms("warm"),
                f"{warm / warm_top:.2f}",
                f"{measured.median_of(function, memory_mb, 'peak_rss_mb'):.0f}",
            )
    result.notes.append(
        f"median of {measured.runs} interleaved rounds (every function at every size and "
        f"unconstrained in each); warm: the median of {measured.warm_count} invocations after "
        "the first, per run; each run a fresh interpreter on deployment.zip with bytecode"
    )
    result.notes.append(
        "CPU share: memory / 1,769 MB of one core (cpu quota = round(100,000 µs × MB / 1,769) "
        "per 100,000 µs); cold start = runtime start + init (import app) + first invocation, "
        "all at the share, as AWS documents it; 'init on a core' is the bound if Init ran at "
        "a whole core (not documented by AWS)"
    )
    slow_inits = [
        f"{f} at {m} MB"
        for f in FUNCTIONS
        for m in measured.sizes
        if measured.median_of(f, m, "runtime_start") + measured.median_of(f, m, "init") > 10
    ]
    if slow_inits:
        result.notes.append(
            "Init over Lambda's 10 s limit (retried inside the first invocation): "
            + ", ".join(slow_inits)
        )
    result.notes.append(
        "the emulator (DynamoDB, SES, EventBridge) runs outside the quota, on the same machine: "
        "its round trips (~2 ms each) are in every figure; AWS's are similar in-region"
    )
    return result


if __name__ == "__main__":
    print(table(run()).text())  # noqa: T201
