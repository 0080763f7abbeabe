"""Fault injection at the boto3 level: a fraction of chosen AWS calls fail the way AWS fails
them. `LOCAL_FAULTS="events:PutEvents=0.3,ses:SendRawEmail=0.3,sqs:DeleteMessage=0.1"`.

- PutEvents: a 200 response in which some entries failed (FailedEntryCount > 0); the other
  entries are really published. botocore does not retry that; the caller must.
- anything else: an HTTP 400 throttling response in place of the real one, below botocore's
  retry layer, so botocore retries it exactly as it retries AWS's own throttling.

- `handler:NAME`: an invocation of the event handler NAME crashes part-way through its batch:
  the first k of its n records (k drawn from 0..n) are handled, then the invocation fails as
  a crashed Lambda does, so the poller retries the whole batch (stream: retries and bisect;
  SQS: redelivery after the visibility timeout; EventBridge: the asynchronous retries). Their
  effects must happen once all the same: that is what the consumers' idempotency is for.

`ses:SendEmail` also covers SendRawEmail (the service sends MIME through SendRawEmail), and
`sqs:DeleteMessage` DeleteMessageBatch (the local runner deletes ten at a time, as Lambda does).

While `make run` runs: `python -m localdev.faults set "events:PutEvents=1.0"`, `… show`,
`… clear` (through the outbox's server; the console shows each change).
"""

from __future__ import annotations

import json
import random
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

from botocore.awsrequest import AWSResponse, HTTPHeaders

_THROTTLING_CODE = {"ses": "Throttling"}
_ALIASES = {
    ("ses", "SendEmail"): ("ses", "SendRawEmail"),
    ("sqs", "DeleteMessage"): ("sqs", "DeleteMessageBatch"),
}


def parse_faults(spec: str) -> dict[tuple[str, str], float]:
    """'events:PutEvents=0.3,ses:SendRawEmail=0.3' -> {('events', 'PutEvents'): 0.3, ...}."""
    faults: dict[tuple[str, str], float] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        target, _, rate = part.partition("=")
        service, _, operation = target.partition(":")
        if not service or not operation or not rate:
            raise ValueError(f"fault {part!r} is not service:Operation=fraction")
        try:
            fraction = float(rate)
        except ValueError:
            raise ValueError(f"fault {part!r}: {rate!r} is not a number") from None
        if not 0 <= fraction <= 1:
            raise ValueError(f"fault {part!r}: the fraction must be between 0 and 1")
        faults[(service.lower(), operation)] = fraction
        alias = _ALIASES.get((service.lower(), operation))
        if alias:
            faults.setdefault(alias, fraction)
    return faults


def format_faults(faults: dict[tuple[str, str], float]) -> str:
    """The inverse of `parse_faults` (aliases it added are left out)."""
    aliases = {alias for key, alias in _ALIASES.items() if key in faults}
    return ",".join(
        f"{service}:{operation}={rate:g}"
        for (service, operation), rate in sorted(faults.items())
        if (service, operation) not in aliases
    )


HANDLER = "handler"  # the "service" of a handler crash: handler:notify_staff=0.1


class HandlerCrashed(Exception):
    """An injected crash of a handler's invocation (after some of its records were handled)."""


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


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
        on_fault: Callable[[str, str], None] | None = None,
    ) -> None:
        self.faults = faults
        self._rng = rng or random.Random()
        self._decide = decide
        self._on_fault = on_fault
        self._calls = threading.local()
        self._lock = threading.Lock()
        self._pass_through: dict[int, Any] = {}
        self.injected: dict[tuple[str, str], int] = {}

    def set_faults(self, faults: dict[tuple[str, str], float]) -> None:
        """Change the rates while clients run (`python -m localdev.faults set …`)."""
        with self._lock:
            self.faults = dict(faults)

    def fails(self, service: str, operation: str, params: dict[str, Any]) -> bool:
        if self._decide is not None:
            return self._decide(service, operation, params)
        with self._lock:
            rate = self.faults.get((service, operation), 0.0)
            return rate > 0 and self._rng.random() < rate

    def crash_point(self, handler: str, records: int) -> int | None:
        """None, or how many of an invocation's `records` are handled before it crashes."""
        if not self.fails(HANDLER, handler, {}):
            return None
        with self._lock:
            handled = self._rng.randint(0, records)
        self._count(HANDLER, handler)
        return handled

    def crashing(self, handler: str, function: Callable[[Any, Any], Any]) -> Callable[..., Any]:
        """`function` (a handler taking (event, context)) with crashes injected at the rate of
        `handler:<handler>`: on a crash it runs on the first k records only (for an event
        without `Records`, k is 0 or 1: before or after its work), then raises HandlerCrashed."""

        def invoke(event: Any, context: Any) -> Any:
            records = event.get("Records") if isinstance(event, dict) else None
            handled = self.crash_point(handler, len(records) if records is not None else 1)
            if handled is None:
                return function(event, context)
            if records is None:
                if handled:
                    function(event, context)
            elif handled:
                function({**event, "Records": records[:handled]}, context)
            total = 1 if records is None else len(records)
            raise HandlerCrashed(f"{handler} crashed (injected) after {handled} of {total}")

        return invoke

    def install(self, client: Any) -> Any:
        """Hook every operation of `client`; each call looks the current rates up, so they can
        change while it runs."""
        model = client.meta.service_model
        service = "ses" if model.endpoint_prefix == "email" else model.endpoint_prefix
        event_id = model.service_id.hyphenize()
        client.meta.events.register(f"before-parameter-build.{event_id}", self._remember)
        if service == "events":
            client.meta.events.register(
                f"before-call.{event_id}.PutEvents", self._partial_put_events(client)
            )
        # Meant for the emulator in server mode. In-process moto (mock_aws) answers from a
        # before-send hook of its own that runs whatever this one returns.
        client.meta.events.register_first(
            f"before-send.{event_id}", self._throttle(service, model.protocol)
        )
        return client

    def _remember(self, params: dict[str, Any], event_name: str = "", **_: Any) -> None:
        setattr(self._calls, event_name.rsplit(".", 1)[-1], params)

    def _throttle(self, service: str, protocol: str) -> Callable[..., Any]:
        code = _THROTTLING_CODE.get(service, "ThrottlingException")

        def before_send(request: Any, event_name: str = "", **_: Any) -> AWSResponse | None:
            operation = event_name.rsplit(".", 1)[-1]
            if (service, operation) == ("events", "PutEvents"):
                return None  # fails entry by entry (before-call), not the whole call
            if not self.fails(service, operation, getattr(self._calls, operation, {})):
                return None
            self._count(service, operation)
            if protocol == "query":
                body = (
                    "<ErrorResponse><Error><Type>Sender</Type>"
                    f"<Code>{code}</Code><Message>Rate exceeded (injected)</Message>"
                    "</Error><RequestId>injected</RequestId></ErrorResponse>"
                ).encode()
                headers = {"Content-Type": "text/xml"}
            else:
                body = json.dumps({"__type": code, "message": "Rate exceeded (injected)"}).encode()
                headers = {
                    "Content-Type": "application/x-amz-json-1.0",
                    "x-amzn-query-error": f"{code};Sender",
                }
            http_headers = HTTPHeaders()
            for name, value in headers.items():
                http_headers[name] = value
            return AWSResponse(request.url, 400, http_headers, _Body(body))

        return before_send

    def _partial_put_events(self, client: Any) -> Callable[..., Any]:
        def before_call(**_: Any) -> Any:
            entries = getattr(self._calls, "PutEvents", {}).get("Entries", [])
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

        return before_call

    def _untouched(self, client: Any) -> Any:
        """A client like `client` without the faults, made once (it carries the passing
        entries of a partly failed PutEvents)."""
        with self._lock:
            if id(client) not in self._pass_through:
                import boto3

                self._pass_through[id(client)] = boto3.client(
                    "events",
                    region_name=client.meta.region_name,
                    endpoint_url=client.meta.endpoint_url,
                    aws_access_key_id="local",
                    aws_secret_access_key="local",
                )
            return self._pass_through[id(client)]

    def _count(self, service: str, operation: str, n: int = 1) -> None:
        with self._lock:
            key = (service, operation)
            self.injected[key] = self.injected.get(key, 0) + n
        if self._on_fault is not None:
            self._on_fault(service, operation)


def _control(argv: list[str] | None = None) -> int:
    """`python -m localdev.faults set SPEC | clear | show`: change a running `make run`'s faults."""
    import argparse
    import os
    import urllib.error
    import urllib.request

    parser = argparse.ArgumentParser(
        prog="python -m localdev.faults",
        description="Show or change the faults a running `make run` injects (the console says "
        "so too). SPEC is as LOCAL_FAULTS: service:Operation=fraction,…",
    )
    parser.add_argument("command", choices=["set", "clear", "show"])
    parser.add_argument("spec", nargs="?", default="")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("LOCAL_OUTBOX_PORT", 8025)),
        help="the outbox port of the running `make run` (LOCAL_OUTBOX_PORT)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.command == "set":
        try:
            parse_faults(args.spec)
        except ValueError as error:
            parser.error(str(error))
        if not args.spec:
            parser.error("set needs a SPEC, e.g. events:PutEvents=1.0 (or use clear)")
    url = f"http://{args.host}:{args.port}/control/faults"
    body = None if args.command == "show" else (args.spec if args.command == "set" else "")
    request = urllib.request.Request(
        url, data=None if body is None else body.encode(), method="GET" if body is None else "PUT"
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            now = response.read().decode()
    except urllib.error.HTTPError as error:
        sys.stderr.write(f"refused: {error.read().decode()}\n")
        return 2
    except OSError:
        sys.stderr.write(
            f"no `make run` answers on {args.host}:{args.port}; is it running? "
            "(--port or LOCAL_OUTBOX_PORT if it uses another outbox port)\n"
        )
        return 2
    sys.stdout.write(f"faults now: {now or 'none'}\n")
    return 0


if __name__ == "__main__":
    sys.exit(_control())
