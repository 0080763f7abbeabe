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
        ("latency", lambda: [local_latency.run(count=10 if quick else 200)]),
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
            "machine. Regenerate with `make bench`.\n\n" + "\n".join(t.markdown() for t in tables)
        )
        print(f"wrote {REPORT.relative_to(ROOT)}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
