"""Business and pipeline metrics as CloudWatch embedded metrics (EMF): one JSON line on stdout
per flush, which CloudWatch Logs turns into metrics in the `Reservations` namespace. No API
call, so counting never fails or slows a handler.

The line is the one Powertools Metrics printed (namespace, the `service` dimension, each
metric's counts as a list), written here directly: Powertools took 20 us a flush (4 here), and
the stream handler flushes once a batch."""

from __future__ import annotations

import json
import sys
import time

NAMESPACE = "Reservations"
# An EMF document holds at most 100 metrics; a flush carries a handful.
MAX_METRICS_PER_LINE = 100


class EmfMetrics:
    """`services.ports.Metrics` as embedded metric format lines."""

    def __init__(self, service: str = "reservation-service") -> None:
        self._service = service
        self._counts: dict[str, list[float]] = {}

    def count(self, name: str, value: int = 1) -> None:
        if value:
            self._counts.setdefault(name, []).append(float(value))
            if len(self._counts) == MAX_METRICS_PER_LINE:
                self.flush()

    def flush(self) -> None:
        if not self._counts:  # nothing counted: no line
            return
        counts, self._counts = self._counts, {}
        line = {
            "_aws": {
                "Timestamp": int(time.time() * 1000),
                "CloudWatchMetrics": [
                    {
                        "Namespace": NAMESPACE,
                        "Dimensions": [["service"]],
                        "Metrics": [{"Name": name, "Unit": "Count"} for name in counts],
                    }
                ],
            },
            "service": self._service,
            **counts,
        }
        sys.stdout.write(json.dumps(line, separators=(",", ":")) + "\n")
