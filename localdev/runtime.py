"""Runs an app's event handlers next to the emulator: the runner, faults, console, outbox.

The app comes in as an `AppBinding` (for this project, `localdev.binding.ReservationsApp`)."""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

from chalice.app import (
    CloudWatchEventConfig,
    DynamoDBEventConfig,
    ScheduledEventConfig,
    SQSEventConfig,
)

from localdev.client_speedups import speed_up_clients
from localdev.console import AppWords, Console, watch_put_events
from localdev.faults import HANDLER, FaultInjector, format_faults, parse_faults
from localdev.outbox import Outbox
from localdev.runner import (
    BusDelivery,
    BusSource,
    OnFailure,
    QueueSource,
    Runner,
    ScheduledSource,
    StreamSettings,
    StreamSource,
    rate_seconds,
)

# The app's clients that LOCAL_FAULTS can reach (named as boto3 names them).
_FAULTABLE_CLIENTS = frozenset({"events", "ses", "sqs", "dynamodb"})
# Queue pollers long-poll for this long, as Lambda's do (20 s there; short here, so that
# Ctrl-C never waits on one).
_LONG_POLL_SECONDS = 1


class AppBinding(AppWords, Protocol):
    """What the engine needs to know of the app it runs."""

    def load(self) -> ModuleType:
        """The app's module, imported as Lambda would (after `use_stage_environment`)."""
        ...

    def client(self, service: str) -> Any:
        """The boto3 client the app's handlers use for `service`."""
        ...

    def stream_settings(self, handler: str, config: DynamoDBEventConfig) -> StreamSettings: ...

    def bus_delivery(self, handler: str) -> BusDelivery: ...


class LocalRuntime:
    def __init__(
        self,
        session: Any,
        outputs: dict[str, str],
        console: Console,
        outbox_dir: Path,
        app: AppBinding,
        sent_mail: Callable[[], Iterator[Any]],
        faults: str = "",
    ) -> None:
        self._app = app
        self._session = session
        self._outputs = outputs
        self._console = console
        self._faults = FaultInjector(
            parse_faults(faults),
            on_fault=lambda service, op: console.line("fault", f"{service}:{op} failed (injected)"),
        )
        self.outbox = Outbox(outbox_dir, console=console)
        self._sent_mail = sent_mail
        self._runner: Runner | None = None
        self._stop = threading.Event()
        self.handlers: list[str] = []

    def start(self) -> None:
        speed_up_clients()
        app_module = self._app.load()
        for service in sorted(_FAULTABLE_CLIENTS):  # faults can be set later, while it runs
            self._faults.install(self._app.client(service))
        watch_put_events(self._app.client("events"), self._console)
        sqs = self._faults.install(self._session.client("sqs"))
        sources = [self._source(app_module, config, sqs) for config in app_module.app.event_sources]
        self.handlers = [source.name for source in sources]
        self._check_handlers(self._faults.faults)
        self._runner = Runner(sources, self._console)
        self._runner.start()
        threading.Thread(target=self._collect_mail, name="outbox-collector", daemon=True).start()

    def faults(self) -> str:
        """The injected faults now, as LOCAL_FAULTS spells them ("" for none)."""
        return format_faults(self._faults.faults)

    def set_faults(self, spec: str) -> str:
        """Replace the injected faults (ValueError for a spec that does not parse or names a
        handler the app does not have)."""
        faults = parse_faults(spec)
        self._check_handlers(faults)
        self._faults.set_faults(faults)
        now = self.faults()
        self._console.line("fault", f"faults now: {now or 'none'}")
        return now

    def _check_handlers(self, faults: dict[tuple[str, str], float]) -> None:
        unknown = sorted(
            name for kind, name in faults if kind == HANDLER and name not in self.handlers
        )
        if unknown:
            raise ValueError(
                f"no event handler named {', '.join(unknown)} (the app has "
                f"{', '.join(self.handlers)})"
            )

    def _collect_mail(self) -> None:
        for sent in self._sent_mail():  # each message as SES accepts it, until the emulator stops
            try:
                self.outbox.add(sent)
            except Exception as error:  # keep watching; say what went wrong
                self._console.line("outbox", f"could not read a message: {error!r}")

    def _source(self, app_module: ModuleType, config: Any, sqs: Any) -> Any:
        handler = self._faults.crashing(config.name, getattr(app_module, config.name))
        if isinstance(config, DynamoDBEventConfig):
            return self._stream(config, handler, sqs)
        if isinstance(config, SQSEventConfig):
            queue = config.queue or str(config.queue_arn).rsplit(":", 1)[1]
            url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
                "Attributes"]["QueueArn"]  # fmt: skip
            return QueueSource(
                config.name,
                handler,
                sqs,
                url,
                arn,
                config.batch_size,
                config.maximum_batching_window_in_seconds,
                self._console,
                wait_seconds=_LONG_POLL_SECONDS,
            )
        if isinstance(config, CloudWatchEventConfig):
            return self._subscription(config, handler, sqs)
        if isinstance(config, ScheduledEventConfig):
            period = rate_seconds(config.schedule_expression)
            return ScheduledSource(config.name, handler, period, self._console)
        raise ValueError(f"the local runtime cannot run {type(config).__name__} handlers yet")

    def _stream(self, config: DynamoDBEventConfig, handler: Any, sqs: Any) -> StreamSource:
        streams = self._session.client("dynamodbstreams")
        arn = config.stream_arn
        known = {s["StreamArn"] for s in streams.list_streams()["Streams"]}
        if arn not in known:  # the stage's placeholder: the emulator's stream has its own label
            arn = self._outputs["TableStreamArn"]
        settings = self._app.stream_settings(config.name, config)
        on_failure = None  # without a destination, Lambda drops a failed batch
        if settings.on_failure_destination:
            on_failure = self._failure_destination(
                self._outputs[f"{settings.on_failure_destination}Arn"], sqs
            )

        source = StreamSource(
            config.name, handler, settings, streams, arn, on_failure=on_failure,
            console=self._console,
        )  # fmt: skip
        source.start_position()
        return source

    def _subscription(self, config: CloudWatchEventConfig, handler: Any, sqs: Any) -> BusSource:
        delivery = self._app.bus_delivery(config.name)
        bus = os.environ.get("EVENT_BUS_NAME", self._outputs["EventBusName"])
        queue_url = sqs.create_queue(QueueName=f"local-bus-{config.name}")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]  # fmt: skip
        events = self._session.client("events")
        rule = f"local-{config.name}"
        events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps(config.event_pattern))
        events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "queue", "Arn": queue_arn}])
        return BusSource(
            config.name,
            handler,
            sqs,
            queue_url,
            delivery.maximum_retry_attempts,
            self._queue_url(sqs, f"{delivery.dead_letter_queue}Arn"),
            self._console,
            wait_seconds=_LONG_POLL_SECONDS,
        )

    def _failure_destination(self, arn: str, sqs: Any) -> OnFailure:
        """Lambda's on-failure delivery: an SQS queue gets the batch-info record; an S3 bucket
        an object holding it and the invocation's records, under Lambda's key layout."""
        if arn.startswith("arn:aws:s3:::"):
            s3, bucket = self._session.client("s3"), arn.removeprefix("arn:aws:s3:::")

            def to_bucket(body: dict[str, Any], records: list[dict[str, Any]]) -> None:
                payload = json.dumps({"Records": records}, default=str)
                s3.put_object(
                    Bucket=bucket,
                    Key=failure_object_key(body),
                    Body=json.dumps({**body, "payload": payload}, default=str).encode(),
                    ContentType="application/json",
                )

            return to_bucket
        url = sqs.get_queue_url(QueueName=arn.rsplit(":", 1)[1])["QueueUrl"]

        def to_queue(body: dict[str, Any], records: list[dict[str, Any]]) -> None:
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body, default=str))

        return to_queue

    def _queue_url(self, sqs: Any, output: str) -> str:
        name = self._outputs[output].rsplit(":", 1)[1]
        return str(sqs.get_queue_url(QueueName=name)["QueueUrl"])

    def stop(self) -> None:
        self._stop.set()
        if self._runner is not None:
            self._runner.stop()


def failure_object_key(body: dict[str, Any]) -> str:
    """Where Lambda puts a failed stream batch in an S3 destination:
    aws/lambda/<mapping id>/<shard id>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid>."""
    now = datetime.now(UTC)
    info = body["DDBStreamBatchInfo"]
    return (
        f"aws/lambda/{LOCAL_MAPPING_ID}/{info['shardId']}/{now:%Y/%m/%d}/"
        f"{now:%Y-%m-%dT%H.%M.%S}-{uuid.uuid4()}"
    )


LOCAL_MAPPING_ID = "00000000-0000-4000-8000-000000000001"  # the local stream mapping's id
