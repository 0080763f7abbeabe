"""The local runtime's console: one readable line per thing that happens."""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, TextIO

_OUTCOME_MARK = {"ok": "ok", "partial": "PARTIAL", "failed": "FAILED", "retried": "retry",
                 "to DLQ": "→ DLQ"}  # fmt: skip


class Console:
    def __init__(self, out: TextIO | None = None) -> None:
        self._out = out or sys.stdout
        self._lock = threading.Lock()

    def line(self, kind: str, text: str, reservation_id: str | None = None) -> None:
        stamp = time.strftime("%H:%M:%S") + f".{int(time.time() * 1000) % 1000:03d}"
        suffix = f"  [{reservation_id}]" if reservation_id else ""
        with self._lock:
            print(f"{stamp} {kind:<8} {text}{suffix}", file=self._out, flush=True)

    def stream_record(self, record: dict[str, Any]) -> None:
        image = record["dynamodb"].get("NewImage", {})
        status = image.get("status", {}).get("S", "")
        reservation = image.get("id", {}).get("S")
        self.line("stream", f"{record['eventName']} reservation {status}".rstrip(), reservation)

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

    def event(self, detail_type: str, outcome: str, reservation_id: str | None) -> None:
        self.line("event", f"{detail_type} {outcome}", reservation_id)

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
            detail = _json(entry.get("Detail"))
            reservation = detail.get("reservation", {}).get("id")
            outcome = f"FAILED ({result['ErrorCode']})" if result.get("ErrorCode") else "published"
            console.event(entry.get("DetailType", "?"), outcome, reservation)

    client.meta.events.register("before-parameter-build.eventbridge.PutEvents", remember)
    client.meta.events.register("after-call.eventbridge.PutEvents", report)


def _json(text: Any) -> dict[str, Any]:
    import json

    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}
