"""The benchmark scripts still run (tiny sizes, nothing written). Figures are `make bench`'s."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from infra import ROOT

CGROUP_ROOTS = tuple(Path("/sys/fs/cgroup") / p for p in ("cpu", "cpu,cpuacct", "."))


@pytest.mark.slow
def test_every_benchmark_runs_and_prints_its_table() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.run", "--quick"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stdout, stderr = process.communicate(timeout=420)
    assert process.returncode == 0, stdout[-3000:] + stderr[-3000:]
    for title in (
        "Cold start",
        "Lambda CPU model",
        "Chosen sizes",
        "Stream handler throughput",
        "AWS calls per reservation",
        "Dollars per million reservations",
        "Dollars a month from 1k to 100M",
        "Prices used",
        "End to end on the local runtime",
        "Lambda package",
    ):
        assert title in stdout, title
    assert "wrote docs/performance.md" not in stdout
    # The CPU model's cgroups (reservations-bench-<its pid>-<MB>) are all removed.
    left = [p for root in CGROUP_ROOTS if root.is_dir()
            for p in root.glob(f"reservations-bench-{process.pid}-*")]  # fmt: skip
    assert left == []
