"""Event consumers wired for Lambda: at most one effect per business event, partial batch
responses for queues. Powertools is imported here only, on a consumer's first use, so the API's
cold start does not pay for it."""

from __future__ import annotations

import contextvars
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from chalicelib.adapters.dynamodb.table import utc_text
from chalicelib.adapters.layout import PK, SK, consumer_idempotency_pk
from chalicelib.domain.events import Event
from chalicelib.services.ports import Metrics, NoMetrics, TimelineStep, TimelineStore

E = TypeVar("E", bound=Event)

IDEMPOTENCY_TTL_SECONDS = 7 * 24 * 3600


class OncePerEvent(Generic[E]):
    """Runs `work` once per `detail.event_id` (Powertools idempotency on the service's table).

    A redelivered event returns the first run's result without running again; a run that
    raised leaves no record, so the retry runs. The records carry no `entity`, so the stream
    filter ignores them (no recursion).
    """

    def __init__(
        self,
        consumer: str,
        work: Callable[[E], dict[str, str]],
        read: Callable[[dict[str, Any]], E],
        dynamodb_client: Any,
        table_name: str,
        timeline: TimelineStore | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        from aws_lambda_powertools import Logger
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            idempotent_function,
        )

        self._config = IdempotencyConfig(
            event_key_jmespath="detail.event_id",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=IDEMPOTENCY_TTL_SECONDS,
            hash_function="sha256",
        )
        persistence = DynamoDBPersistenceLayer(
            table_name=table_name,
            key_attr=PK,
            sort_key_attr=SK,
            static_pk_value=consumer_idempotency_pk(consumer),
            expiry_attr="expires_at",
            boto3_client=dynamodb_client,
        )

        @idempotent_function(  # type: ignore[untyped-decorator]
            data_keyword_argument="envelope",
            persistence_store=persistence,
            config=self._config,
            key_prefix=consumer,
        )
        def run(envelope: dict[str, Any]) -> dict[str, Any]:
            # Powertools calls this only for an event not seen before.
            done = work(read(envelope))
            self._done.set(done)
            # What Powertools keeps (the record, 7 days) is the message id only: the
            # recipients and subject name the guest, and go to the timeline (30 days) instead.
            return {"result": {"message_id": done["message_id"]} if done else {}}

        self._run = run
        self._timeline = timeline
        self._metrics = metrics or NoMetrics()
        self._consumer = consumer
        # What `work` answered in this call; None: it did not run (the event was handled).
        self._done: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
            consumer, default=None
        )
        self._logger = Logger(service="reservation-service", child=True)

    def __call__(self, envelope: dict[str, Any], context: Any) -> dict[str, Any]:
        if context is not None:
            # Lets an in-progress record expire with the invocation, so a crashed run is retried.
            self._config.register_lambda_context(context)
        done_before = self._done.set(None)
        detail = envelope.get("detail") or {}
        self._logger.set_correlation_id(detail.get("correlation_id"))
        try:
            result: dict[str, Any] = self._run(envelope=envelope)
        except Exception as error:
            self._record(detail, "email failed", {"error": f"{type(error).__name__}: {error}"})
            self._metrics.count("EmailsFailed")
            raise
        else:
            stored = result.get("result")
            sent = stored if isinstance(stored, dict) else {"message_id": str(stored)}
            # `work` answers {} when the event needs no email (e.g. staff are not told of
            # their own cancellations): nothing to record or count.
            done = self._done.get()
            if done is None:
                what = "email skipped: event already handled"
            else:
                what = "email sent" if done else "no email for this event"
            self._logger.info(
                what,
                consumer=self._consumer,
                event_id=detail.get("event_id"),
                reservation_id=(detail.get("reservation") or {}).get("id"),
                message_id=sent.get("message_id"),
            )
            if done:
                self._record(detail, "email sent", done)
                self._metrics.count("EmailsSent")
        finally:
            self._done.reset(done_before)
            self._metrics.flush()
        return result

    def _record(self, detail: dict[str, Any], what: str, details: dict[str, str]) -> None:
        """A step on the reservation's timeline; never fails the consumer (it is a record of
        the work, not the work)."""
        reservation = detail.get("reservation") or {}
        if self._timeline is None or not reservation.get("id"):
            return
        step = TimelineStep(
            reservation_id=reservation["id"],
            restaurant_id=reservation.get("restaurant_id", ""),
            at=utc_text(datetime.now(UTC)),
            what=what,
            step_id=f"{self._consumer}:{detail.get('event_id')}",
            details={"consumer": self._consumer, "event_id": str(detail.get("event_id")),
                     **details},
        )  # fmt: skip
        try:
            self._timeline.add_steps([step])
        except Exception as error:  # the email went out (or failed) all the same
            self._logger.warning("timeline step not written", error=repr(error))


def queue_batch(
    handle: Callable[[dict[str, Any], Any], Any],
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """An SQS handler: each message body is an EventBridge event; failures are reported per
    message (ReportBatchItemFailures) so only those come back."""
    from aws_lambda_powertools.utilities.batch import (
        BatchProcessor,
        EventType,
        process_partial_response,
    )

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    def handle_batch(event: dict[str, Any], context: Any) -> dict[str, Any]:
        def record_handler(record: Any) -> Any:
            return handle(json.loads(record.body), context)

        response = process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
        return dict(response)

    return handle_batch
