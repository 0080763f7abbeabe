"""The Lambda CPU model's cgroup: the quota per memory size, that it caps a child process, and
that every cgroup it creates is removed, on success and on failure."""

from __future__ import annotations

import sys
import time

import pytest

from bench.lambda_cpu import cpu_quota_us, cpu_share, detect, run_in_share


def test_the_quota_is_lambdas_share_of_a_core() -> None:
    assert cpu_quota_us(1769) == 100_000
    assert cpu_quota_us(128) == 7236
    assert cpu_quota_us(512) == 28_943


def test_a_machine_without_a_controller_says_why(tmp_path: object) -> None:
    from pathlib import Path

    controller = detect(Path(str(tmp_path)))
    assert not controller.usable and "no cgroup CPU controller" in controller.reason


BUSY = "import time\nend = time.process_time() + 0.03\nwhile time.process_time() < end: pass\n"


def test_the_share_caps_a_child_and_is_removed_after_it() -> None:
    controller = detect()
    if not controller.usable:
        pytest.skip(f"no writable CPU controller here: {controller.reason}")
    with cpu_share(controller, 128) as join:
        group = join.parent
        assert group.exists()
        started = time.monotonic()
        run_in_share([sys.executable, "-c", BUSY], join)
        took = time.monotonic() - started
    assert not group.exists()
    # 30 ms of CPU at 7.2 ms per 100 ms period cannot finish in under ~0.3 s.
    assert took > 0.25, took


def test_the_cgroup_is_removed_when_the_run_fails() -> None:
    controller = detect()
    if not controller.usable:
        pytest.skip(f"no writable CPU controller here: {controller.reason}")
    with pytest.raises(RuntimeError, match="benchmark child failed"):
        with cpu_share(controller, 256) as join:
            group = join.parent
            run_in_share([sys.executable, "-c", "raise SystemExit(3)"], join)
    assert not group.exists()
