"""Business and pipeline metrics as CloudWatch embedded metrics (Powertools Metrics): one JSON
line on stdout per flush, which CloudWatch Logs turns into metrics in the `Reservations`
namespace. No API call, so counting never fails or slows a handler."""

from __future__ import annotations

from typing import Any

NAMESPACE = "Reservations"


class EmfMetrics:
    """`services.ports.Metrics` on Powertools Metrics (imported on first use)."""

    def __init__(self, service: str = "reservation-service") -> None:
        from aws_lambda_powertools import Metrics

        self._metrics: Any = Metrics(namespace=NAMESPACE, service=service)
        self._counted = False

    def count(self, name: str, value: int = 1) -> None:
        if value:
            self._metrics.add_metric(name=name, unit="Count", value=value)
            self._counted = True

    def flush(self) -> None:
        if self._counted:  # an empty flush only warns
            self._metrics.flush_metrics()
            self._counted = False
