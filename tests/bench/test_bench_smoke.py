"""The benchmark scripts still run (tiny sizes, nothing written). Figures are `make bench`'s."""

from __future__ import annotations

import subprocess
import sys

import pytest

from infra import ROOT


@pytest.mark.slow
def test_every_benchmark_runs_and_prints_its_table() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for title in (
        "Cold start",
        "Stream handler throughput",
        "AWS calls per reservation",
        "End to end on the local runtime",
        "Lambda package",
    ):
        assert title in result.stdout, title
    assert "wrote docs/performance.md" not in result.stdout
