"""The local runtime's console: one readable line per thing that happens."""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, Protocol, TextIO

_OUTCOME_MARK = {"ok": "ok", "partial": "PARTIAL", "failed": "FAILED", "retried": "retry",
                 "to DLQ": "→ DLQ"}  # fmt: skip


class AppWords(Protocol):
    """How the app's stream records and events read (given by `localdev.binding`)."""

    def describe_stream_record(self, record: dict[str, Any]) -> tuple[str, str | None]:
        """The record in words, and the id of what it is about."""
        ...

    def event_reservation(self, detail: Any) -> str | None:
        """The id of what an event's detail is about."""
        ...


class PlainWords:
    """For an app without a binding: the record's kind and the event's type only."""

    def describe_stream_record(self, record: dict[str, Any]) -> tuple[str, str | None]:
        return f"{record.get('eventName', '?')} record", None

    def event_reservation(self, detail: Any) -> str | None:
        return None


class Console:
    def __init__(self, out: TextIO | None = None, words: AppWords | None = None) -> None:
        self._out = out or sys.stdout
        self._words = words or PlainWords()
        self._lock = threading.Lock()

    def line(self, kind: str, text: str, reservation_id: str | None = None) -> None:
        stamp = time.strftime("%H:%M:%S") + f".{int(time.time() * 1000) % 1000:03d}"
        suffix = f"  [{reservation_id}]" if reservation_id else ""
        with self._lock:
            print(f"{stamp} {kind:<8} {text}{suffix}", file=self._out, flush=True)

    def stream_record(self, record: dict[str, Any]) -> None:
        self.line("stream", *self._words.describe_stream_record(record))

    def filtered(self, count: int) -> None:
        self.line("stream", f"{count} bookkeeping record(s) filtered out")

    def handler(
        self, name: str, outcome: str, detail: str = "", reservation_id: str | None = None
    ) -> None:
        self.line(
            "handler",
            f"{name} {_OUTCOME_MARK.get(outcome, outcome)} {detail}".rstrip(),
            reservation_id,
        )

    def bus_event(self, handler: str, outcome: str, event: dict[str, Any]) -> None:
        """What a handler did with an EventBridge event."""
        about = self._words.event_reservation(event.get("detail"))
        self.handler(handler, outcome, event.get("detail-type", "?"), about)

    def published(self, detail_type: str, outcome: str, detail: Any) -> None:
        self.line("event", f"{detail_type} {outcome}", self._words.event_reservation(detail))

    def email(self, to: str, subject: str, reservation_id: str | None) -> None:
        self.line("email", f"to {to}: {subject}", reservation_id)


def watch_put_events(client: Any, console: Console) -> None:
    """One console line per entry a PutEvents call published or failed to publish."""
    sent = threading.local()

    def remember(params: dict[str, Any], **_: Any) -> None:
        sent.entries = params.get("Entries", [])

    def report(parsed: dict[str, Any], **_: Any) -> None:
        for entry, result in zip(
            getattr(sent, "entries", []), parsed.get("Entries", []), strict=False
        ):
            outcome = f"FAILED ({result['ErrorCode']})" if result.get("ErrorCode") else "published"
            console.published(entry.get("DetailType", "?"), outcome, _json(entry.get("Detail")))

    client.meta.events.register("before-parameter-build.eventbridge.PutEvents", remember)
    client.meta.events.register("after-call.eventbridge.PutEvents", report)


def _json(text: Any) -> dict[str, Any]:
    import json

    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}
