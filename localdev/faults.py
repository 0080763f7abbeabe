"""Fault injection at the boto3 level: a fraction of chosen AWS calls fail the way AWS fails
them. `LOCAL_FAULTS="events:PutEvents=0.3,ses:SendRawEmail=0.3,sqs:DeleteMessage=0.1"`.

- PutEvents: a 200 response in which some entries failed (FailedEntryCount > 0); the other
  entries are really published.
- anything else: a throttling error, before the request is sent.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

THROTTLING = {
    "ses": ("Throttling", "Maximum sending rate exceeded."),
    "sqs": ("ThrottlingException", "Rate exceeded"),
    "dynamodb": ("ThrottlingException", "Rate of requests exceeds the allowed throughput."),
    "events": ("ThrottlingException", "Rate exceeded"),
}


def parse_faults(spec: str) -> dict[tuple[str, str], float]:
    """'events:PutEvents=0.3,ses:SendRawEmail=0.3' -> {('events', 'PutEvents'): 0.3, ...}."""
    faults: dict[tuple[str, str], float] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        target, _, rate = part.partition("=")
        service, _, operation = target.partition(":")
        if not service or not operation or not rate:
            raise ValueError(f"fault {part!r} is not service:Operation=fraction")
        fraction = float(rate)
        if not 0 <= fraction <= 1:
            raise ValueError(f"fault {part!r}: the fraction must be between 0 and 1")
        faults[(service.lower(), operation)] = fraction
    return faults


_API_PARAMS = "fault_injection_api_params"


def _keep_api_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    """`before-call` sees the serialised request; keep the API parameters for it."""
    context[_API_PARAMS] = params


class _Http:
    status_code = 200
    headers: dict[str, str] = {}


class FaultInjector:
    """Installs on boto3 clients. Failures are drawn at the configured rates, or chosen by
    `decide(service, operation, params)` (params: the call's, or one PutEvents entry)."""

    def __init__(
        self,
        faults: dict[tuple[str, str], float],
        rng: random.Random | None = None,
        decide: Callable[[str, str, dict[str, Any]], bool] | None = None,
    ) -> None:
        self.faults = faults
        self._rng = rng or random.Random()
        self._decide = decide
        self.injected: dict[tuple[str, str], int] = {}

    def fails(self, service: str, operation: str, params: dict[str, Any]) -> bool:
        if self._decide is not None:
            return self._decide(service, operation, params)
        rate = self.faults.get((service, operation), 0.0)
        return rate > 0 and self._rng.random() < rate

    def install(self, client: Any) -> Any:
        service = client.meta.service_model.endpoint_prefix
        service = "ses" if service == "email" else service
        event_id = client.meta.service_model.service_id.hyphenize()
        for (fault_service, operation), _ in self.faults.items():
            if fault_service == service:
                client.meta.events.register(
                    f"before-parameter-build.{event_id}.{operation}", _keep_api_params
                )
                client.meta.events.register(
                    f"before-call.{event_id}.{operation}",
                    self._handler(client, service, operation),
                )
        return client

    def _handler(self, client: Any, service: str, operation: str) -> Callable[..., Any]:
        def before_call(context: dict[str, Any], **_: Any) -> Any:
            params = context.get(_API_PARAMS, {})
            if service == "events" and operation == "PutEvents":
                return self._partial_put_events(client, params)
            if self.fails(service, operation, params):
                self._count(service, operation)
                code, message = THROTTLING.get(service, ("ThrottlingException", "Rate exceeded"))
                raise ClientError({"Error": {"Code": code, "Message": message}}, operation)
            return None

        return before_call

    def _partial_put_events(self, client: Any, params: dict[str, Any]) -> Any:
        entries = params["Entries"]
        failing = [i for i, e in enumerate(entries) if self.fails("events", "PutEvents", e)]
        if not failing:
            return None
        self._count("events", "PutEvents", len(failing))
        passing = [e for i, e in enumerate(entries) if i not in failing]
        published = iter(
            self._untouched(client).put_events(Entries=passing)["Entries"] if passing else []
        )
        results = [
            {"ErrorCode": "InternalFailure", "ErrorMessage": "injected failure"}
            if i in failing
            else next(published)
            for i in range(len(entries))
        ]
        return _Http(), {"FailedEntryCount": len(failing), "Entries": results}

    def _untouched(self, client: Any) -> Any:
        import boto3

        return boto3.client(
            "events",
            region_name=client.meta.region_name,
            endpoint_url=client.meta.endpoint_url,
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    def _count(self, service: str, operation: str, n: int = 1) -> None:
        key = (service, operation)
        self.injected[key] = self.injected.get(key, 0) + n
