"""Small helpers shared by the benchmarks: medians, ratios, tables."""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


def bench_environment() -> None:
    """The variables app.py needs, with no AWS anywhere near."""
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "eu-west-1",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "TABLE_NAME": "reservations-bench",
            "ADMIN_TOKEN": "bench-admin-token",
            "SIGNING_KEY": "bench-signing-key-0123456789abcdef",
            "EVENT_BUS_NAME": "reservations-bench",
            "STREAM_FAILURE_QUEUE": "reservations-bench-stream-failures",
            "SENDER_EMAIL": "reservations@demo-bistro.example",
            "STAFF_NOTIFICATION_QUEUE": "reservations-bench-staff-notifications",
            "PUBLIC_BASE_URL": "https://bench.example",
            "POWERTOOLS_LOG_LEVEL": "ERROR",
        }
    )
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)


def _stat_fields(pid: int | str) -> list[str]:
    """/proc/<pid>/stat after the command name (which may hold spaces): state is [0]."""
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()


def children_of(pid: int) -> set[int]:
    """The ids of the processes whose parent is `pid` (Linux's /proc)."""
    found = set()
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and int(_stat_fields(entry)[1]) == pid:
                found.add(int(entry))
        except OSError:  # it ended meanwhile
            continue
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used, its threads included."""
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def interleaved(runs: int, *variants: Callable[[], float]) -> list[list[float]]:
    """Run the variants in turn, `runs` times, so machine noise hits them alike."""
    results: list[list[float]] = [[] for _ in variants]
    for _ in range(runs):
        for i, variant in enumerate(variants):
            results[i].append(variant())
    return results


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *cells: object) -> None:
        self.rows.append([str(c) for c in cells])

    def markdown(self) -> str:
        lines = [f"### {self.title}", "", "| " + " | ".join(self.columns) + " |",
                 "|" + "---|" * len(self.columns)]  # fmt: skip
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        if self.notes:
            lines += [""] + [f"- {note}" for note in self.notes]
        return "\n".join(lines) + "\n"

    def text(self) -> str:
        widths = [max(len(c), *(len(r[i]) for r in self.rows)) for i, c in enumerate(self.columns)]
        line = "  ".join(c.ljust(w) for c, w in zip(self.columns, widths, strict=True))
        body = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in self.rows]
        return "\n".join([self.title, line, "-" * len(line), *body, *self.notes, ""])
