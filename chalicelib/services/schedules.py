"""What one run of a scheduled function did: the work it did (`done`, named `done_as` in its
answer: "expired", "removed"), the work it found due but left (changed meanwhile), and how late
after its due time the latest piece came."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ScheduledRun:
    done_as: str
    done: int
    skipped: int
    max_lateness_seconds: float

    @property
    def found_work(self) -> bool:
        return bool(self.done or self.skipped)

    def view(self) -> dict[str, int | float]:
        return {
            self.done_as: self.done,
            "skipped": self.skipped,
            "max_lateness_seconds": round(self.max_lateness_seconds, 3),
        }
