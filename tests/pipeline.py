"""Drives the app's real event handlers over moto, the way Lambda's event sources would:
stream records shaped as Lambda delivers them, SQS batches with deletion of the successes,
and EventBridge events for the on_cw_event handlers (tapped from the bus through a queue)."""

from __future__ import annotations

import email
import email.policy
import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.message import EmailMessage, Message
from types import ModuleType
from typing import Any

from moto.ses.models import ses_backends

from chalicelib.domain.booking_rules import seatings
from localdev.aws_emulation import ACCOUNT
from localdev.lambda_shapes import (
    LocalLambdaContext,
    eventbridge_event,
    scheduled_event,
    sqs_event,
    stream_record_as_lambda,
)
from tests.app.conftest import Api, guest_request, upcoming_wednesday
from tests.builders import restaurant_spec

REGION = "eu-west-1"
RES = "/restaurants/bistro-a/reservations"
# Seatings of the test restaurant on a Wednesday (it opens then), derived from its hours.
SLOTS = [start.strftime("%H:%M") for start in seatings(restaurant_spec(), date(2026, 6, 3))]


@dataclass(frozen=True)
class SentEmail:
    to: tuple[str, ...]
    subject: str
    text: str
    html: str
    headers: EmailMessage


class Pipeline:
    def __init__(self, session: Any, app_module: ModuleType, outputs: dict[str, str]) -> None:
        self.app = app_module
        self.outputs = outputs
        self.delivered: list[dict[str, Any]] = []  # every event the bus delivered, in order
        self.stream_arn = outputs["TableStreamArn"]
        self.streams = session.client("dynamodbstreams")
        self.sqs = session.client("sqs")
        self.staff_queue_arn = outputs["StaffNotificationQueueArn"]
        self.staff_queue = self.sqs.get_queue_url(QueueName=outputs["StaffNotificationQueueName"])[
            "QueueUrl"
        ]
        self.failure_queue = self.sqs.get_queue_url(
            QueueName=outputs["StreamFailureQueueArn"].rsplit(":", 1)[1]
        )["QueueUrl"]
        self._iterators = self._open_shards()
        self.handled_records: list[dict[str, Any]] = []
        self.tap = self._tap_the_bus(session, outputs["EventBusName"])

    # -- the stream ------------------------------------------------------------------------

    def _open_shards(self) -> dict[str, str]:
        description = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        return {
            shard["ShardId"]: self.streams.get_shard_iterator(
                StreamArn=self.stream_arn,
                ShardId=shard["ShardId"],
                ShardIteratorType="TRIM_HORIZON",
            )["ShardIterator"]
            for shard in description["Shards"]
        }

    def stream_records(self) -> list[dict[str, Any]]:
        """New records since the last call, shaped as Lambda delivers them."""
        records: list[dict[str, Any]] = []
        for shard, iterator in self._iterators.items():
            response = self.streams.get_records(ShardIterator=iterator)
            self._iterators[shard] = response["NextShardIterator"]
            records += [stream_record_as_lambda(r, self.stream_arn) for r in response["Records"]]
        return records

    def run_stream(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        self.handled_records += records
        event = {"Records": records}
        context = LocalLambdaContext("publish_reservation_events")
        response: dict[str, Any] = self.app.publish_reservation_events(event, context)
        return response

    # -- the staff queue -------------------------------------------------------------------

    def staff_messages(self) -> list[dict[str, Any]]:
        """One poll of up to 10 messages; they stay invisible for the visibility timeout."""
        messages: list[dict[str, Any]] = self.sqs.receive_message(
            QueueUrl=self.staff_queue, MaxNumberOfMessages=10, AttributeNames=["All"]
        ).get("Messages", [])
        return messages

    def run_staff(self, messages: list[dict[str, Any]], *, delete: bool = True) -> dict[str, Any]:
        """Invoke notify_staff; like Lambda, delete only the messages not reported failed."""
        event = sqs_event(messages, self.staff_queue_arn)
        context = LocalLambdaContext("notify_staff")
        response: dict[str, Any] = self.app.notify_staff(event, context)
        failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
        if delete:
            for message in messages:
                if message["MessageId"] not in failed:
                    self.sqs.delete_message(
                        QueueUrl=self.staff_queue, ReceiptHandle=message["ReceiptHandle"]
                    )
        return response

    # -- the bus, for on_cw_event handlers --------------------------------------------------

    def _tap_the_bus(self, session: Any, bus: str) -> str:
        url: str = self.sqs.create_queue(QueueName="test-bus-tap")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        events = session.client("events")
        events.put_rule(
            Name="test-tap", EventBusName=bus, EventPattern=json.dumps({"source": ["reservations"]})
        )
        events.put_targets(Rule="test-tap", EventBusName=bus, Targets=[{"Id": "tap", "Arn": arn}])
        return url

    def bus_events(self) -> list[dict[str, Any]]:
        delivered: list[dict[str, Any]] = []
        while batch := self.sqs.receive_message(QueueUrl=self.tap, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            for message in batch:
                delivered.append(eventbridge_event(json.loads(message["Body"]), ACCOUNT))
                self.delivered.append(delivered[-1])
                self.sqs.delete_message(QueueUrl=self.tap, ReceiptHandle=message["ReceiptHandle"])
        return delivered

    def run_bus(self, event: dict[str, Any]) -> list[Any]:
        """Invoke every on_cw_event handler whose pattern matches the event."""
        results = []
        for source in self.app.app.event_sources:
            pattern = getattr(source, "event_pattern", None)
            if pattern and event["detail-type"] in pattern["detail-type"]:
                handler = getattr(self.app, source.name)
                results.append(handler(event, LocalLambdaContext(source.name)))
        return results

    # -- the schedule ------------------------------------------------------------------------

    def run_expiry(self) -> dict[str, Any]:
        """One scheduled run of expire_unanswered_requests, as its rule invokes it."""
        return self._run_schedule("expire_unanswered_requests")

    def run_retention(self) -> dict[str, Any]:
        """One scheduled run of remove_old_guest_details, as its rule invokes it."""
        return self._run_schedule("remove_old_guest_details")

    def _run_schedule(self, name: str) -> dict[str, Any]:
        rule = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{name.replace('_', '-')}"
        event = scheduled_event(rule, ACCOUNT, datetime.now(UTC))
        response: dict[str, Any] = getattr(self.app, name)(event, LocalLambdaContext(name))
        return response

    # -- everything -------------------------------------------------------------------------

    def drain(self) -> None:
        """Run every handler until nothing is left to do."""
        for _ in range(10):
            records = self.stream_records()
            if records:
                assert self.run_stream(records) == {"batchItemFailures": []}
            messages = self.staff_messages()
            if messages:
                self.run_staff(messages)
            events = self.bus_events()
            for event in events:
                self.run_bus(event)
            if not (records or messages or events):
                return
        raise AssertionError("the pipeline did not settle")

    def failure_queue_bodies(self) -> list[dict[str, Any]]:
        messages = self.sqs.receive_message(QueueUrl=self.failure_queue, MaxNumberOfMessages=10)
        return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


def sent_emails() -> list[SentEmail]:
    """Every email SES (moto) accepted, parsed (headers decoded, as a mail client shows them)."""
    backend = ses_backends[ACCOUNT][REGION]
    sent = []
    for message in backend.sent_messages:
        parsed = email.message_from_string(message.raw_data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        parts: dict[str, Message] = {}
        for part in parsed.walk():
            if not part.is_multipart():
                parts.setdefault(part.get_content_type(), part)  # an attachment comes after
        sent.append(
            SentEmail(
                to=tuple(a.strip() for a in str(parsed["To"]).split(",")),
                subject=str(parsed["Subject"]),
                text=_decoded(parts["text/plain"]),
                html=_decoded(parts["text/html"]),
                headers=parsed,
            )
        )
    return sent


def _decoded(part: Message) -> str:
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    # Sent with CRLF line ends, as SMTP wants; read with "\n", as a mail client shows it.
    return payload.decode(part.get_content_charset() or "utf-8").replace("\r\n", "\n")


@dataclass
class Flow:
    api: Api
    pipeline: Pipeline
    staff: dict[str, str]
    session: Any

    def book(self, **overrides: Any) -> dict[str, Any]:
        status, body, _ = self.api.call("POST", RES, guest_request(**overrides))
        assert status == 201, body
        return dict(body)

    def summary(self) -> dict[str, Any]:
        status, body, _ = self.api.call(
            "GET", f"/restaurants/bistro-a/summary?date={upcoming_wednesday()}", None, self.staff
        )
        assert status == 200, body
        return dict(body)


def book_many(flow: Flow, n: int) -> list[str]:
    return [flow.book(hhmm=SLOTS[i], party_size=1)["id"] for i in range(n)]


def entries_sent(client: Any) -> list[int]:
    """Observe (not alter) how many entries each PutEvents call carried."""
    sizes: list[int] = []
    client.meta.events.register(
        "before-parameter-build.eventbridge.PutEvents",
        lambda params, **_: sizes.append(len(params["Entries"])),
    )
    return sizes


def staff_emails_per_reservation() -> Counter[str]:
    return Counter(e.headers["X-Reservation-Id"] for e in sent_emails() if "Booking" in e.subject)


def assert_exactly_once(flow: Flow, reservation_ids: list[str]) -> None:
    """One staff email per reservation and totals that counted each request once."""
    assert staff_emails_per_reservation() == Counter(reservation_ids)
    summary = flow.summary()
    assert summary["requested"] == summary["pending"] == len(reservation_ids)
    assert summary["covers_booked"] == len(reservation_ids)
