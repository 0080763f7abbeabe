"""`make bench`: every benchmark, printed as tables and written to docs/performance.md.

python -m bench.run            # full run (under 5 minutes on 2 cores)
python -m bench.run --quick    # smoke run: tiny sizes, nothing written (used by make test)
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench import (
    aws_calls,
    cold_start,
    costs,
    lambda_cpu,
    local_latency,
    package_size,
    stream_throughput,
)
from bench.common import Table
from chalicelib.wiring.event_sources import FUNCTION_MEMORY_MB
from infra import ROOT

REPORT = ROOT / "docs" / "performance.md"

# Written above the tables: what the CPU model stands on, and how the sizes follow from the
# tables (no figure here: each is in a table below, from this run).
LAMBDA_MODEL = """## Lambda's CPU, cold starts and sizes

What AWS documents, and what the CPU-model tables below assume:

- **CPU follows memory.** "Lambda allocates CPU power in proportion to the amount of memory
  configured ... At 1,769 MB, a function has the equivalent of one vCPU" ([Configure Lambda
  function memory](https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html)).
  The benchmark gives each run that share of one core with the kernel's CFS bandwidth
  controller: a quota of round(100,000 µs × MB / 1,769) per 100,000 µs period (7,236 µs at
  128 MB), from a child cgroup it removes afterwards. Where no CPU controller is writable
  (not root, no cgroup), it says so in one line and every size shows the unconstrained figure.
- **Init is capped, then retried, and billed.** The Init phase (extensions, the runtime's
  start, the function's static code: here `import app`) "is limited to 10 seconds"; if it
  does not finish, Lambda runs it again within the first invocation under the function's
  timeout ([Understanding the Lambda execution environment lifecycle](https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html)).
  Since 1 August 2025 Init is billed like the invocation for ZIP functions on managed
  runtimes ([AWS Lambda standardizes billing for INIT Phase](https://aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-init-phase),
  AWS Compute Blog).
- **No other CPU share is documented for Init.** The model therefore runs the whole cold start
  at the memory's share ("cold start ms"), and shows as a bound the cold start if Init had a
  whole core ("cold, init on a core": the unconstrained Init plus the first invocation at the
  share). Third-party posts report faster Init than the share would give; AWS does not say so,
  and nothing here relies on it.

What a guest waits for on a cold start: the runtime's start, `import app` and the first POST
(which creates the first boto3 client), all at the API function's share; API Gateway and the
network come on top. The emulator (DynamoDB, SES, EventBridge) runs outside the quota, as
those services run outside the function in AWS. Lambda enforces the share in its own
Firecracker VMs on arm64 (Graviton) in production; this machine is x86_64 and its CFS period
is Linux's: read the tables for their shape (how each function scales with its share), not
as AWS's milliseconds.

How the sizes are chosen (`FUNCTION_MEMORY_MB` in `chalicelib/wiring/event_sources.py`,
written into each deployed stage of `.chalice/config.json`; the table "Chosen sizes" holds
the figures each choice rests on):

- **API (`api_handler`), a whole vCPU (1,769 MB).** A guest waits on its cold start, which
  keeps falling as the share grows up to a full core; its warm POST barely moves above 512 MB
  (the emulator's round trips dominate), and a million warm POSTs cost cents to a dollar of
  Lambda at any size against $3.50 of API Gateway. Past 1,769 MB a single-threaded Python
  gains nothing.
- **Stream relay (`publish_reservation_events`), 512 MB.** About the GB-s of 256 MB for half
  its batch time; more memory buys little speed at a higher bill. One environment per shard stays
  warm under traffic, so its cold start is rare and reaches a guest only as a later email.
- **Staff emails (`notify_staff`), 512 MB.** Paced to the account's SES rate (see
  [Deploying](deploy.md#limits)): a faster CPU would mostly be billed waiting.
- **Guest emails (`notify_guest`), 1,024 MB.** The receipt and the confirmation: well under
  512 MB's warm time for a little more GB-s, and a cold start under a second.
- **Day totals (`update_daily_summary`), 256 MB.** Nobody waits on it; 128 MB saves next to
  nothing per million and doubles its cold start again.

Every function's peak memory (the tables' RSS column) is a fraction of its size: memory is
bought for CPU here, not for room.

## How fast the local runtime drains, and what bounds it

The local pipeline (`make run`) is bound by this machine's CPU, not by waiting. Each booking
makes about fifteen requests of the emulator: the booking's transaction, two idempotency
records for each of its two emails, the restaurant read by each email's consumer, three
timeline steps, the two emails and the day's totals. Each request is paid for twice: once
by botocore in the process that calls (serialising, signing, parsing the answer), and once
by moto in the emulator (parsing, evaluating, serialising). The table "CPU per booking"
divides each process's CPU by the bookings of the 8-client runs, and compares the drain the
cores allow with the drain measured.

The first wave set a target of 50 bookings/s on 2 cores. That is 40 ms of CPU per booking,
with both cores busy all the time, and it is not met. The same table shows why:

- the requests alone take most of that budget, each at the cost of a bare PutItem, the
  cheapest request there is;
- the rest of a booking's work costs more than what is left: moto evaluating the eight
  conditional updates of the booking's transaction, each email built by the app and parsed
  again by moto and by the outbox, and the API's own request.

Reaching 50/s would take one of three things. Fewer requests per booking would change the
deployed design: Powertools' two idempotency writes per email, for example. A faster emulator
would do it, but moto is the project's embedded AWS, and DynamoDB Local is downloaded from
AWS, which this machine cannot reach. More cores would too: the work is already spread over
three processes.

## The figures

"""


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="tiny sizes; write nothing")
    args = parser.parse_args(argv)
    quick = args.quick
    started = time.monotonic()
    tables: list[Table] = []
    measured: dict[str, object] = {}

    def cpu_model() -> list[Table]:
        # Every size the issue asks for and every size a function is given, so each chosen
        # size has its own figures; the smoke run takes one size, one round.
        sizes = sorted(set(lambda_cpu.MEMORY_SIZES) | set(FUNCTION_MEMORY_MB.values()))
        cpu = (
            lambda_cpu.run(runs=1, warm=1, sizes=(512,))
            if quick
            else lambda_cpu.run(runs=3, warm=5, sizes=tuple(sizes))
        )
        measured["cpu"] = cpu
        return [lambda_cpu.table(cpu), costs.sizing_table(cpu)]

    def calls() -> list[Table]:
        flows = aws_calls.measure(count=3 if quick else aws_calls.RESERVATIONS)
        measured["calls"] = flows
        return [aws_calls.table(flows)]

    def dollars() -> list[Table]:
        cpu, flows = measured["cpu"], measured["calls"]
        assert isinstance(cpu, lambda_cpu.Measured) and isinstance(flows, aws_calls.Measured)
        return costs.tables(cpu, flows)

    steps: list[tuple[str, Callable[[], list[Table]]]] = [
        ("cold start", lambda: [cold_start.run(runs=1 if quick else 5)]),
        ("lambda cpu", cpu_model),
        (
            "stream",
            lambda: [stream_throughput.run(batches=2 if quick else 30, runs=1 if quick else 7)],
        ),
        ("aws calls", calls),
        ("dollars", dollars),
        (
            "latency",
            lambda: local_latency.run(count=10 if quick else 200, repeats=1 if quick else 3),
        ),
        ("package", lambda: [package_size.run()]),
    ]
    for _, step in steps:
        # Each benchmark in its own interpreter state would be cleaner; they share one here,
        # and each sets the environment it needs.
        for table in step():
            print(table.text(), flush=True)  # noqa: T201
            tables.append(table)
    took = time.monotonic() - started
    print(f"all benchmarks: {took:.0f} s")  # noqa: T201
    if not quick:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        REPORT.write_text(
            "# Performance\n\n"
            f"Measured by `make bench` (`python -m bench.run`) on {machine()}, commit {commit}, "
            f"in {took:.0f} s. Every figure is a median over runs interleaved with its "
            "baselines in the same run; ratios matter more than absolute times on a shared "
            "machine. Regenerate with `make bench`.\n\n"
            + LAMBDA_MODEL
            + "\n".join(t.markdown() for t in tables)
        )
        print(f"wrote {REPORT.relative_to(ROOT)}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
