"""The mail outbox: every email sent through the emulator's SES, as a web page, as JSON and as
.eml files.

    http://127.0.0.1:8025/               newest first; each message viewable, links clickable
    http://127.0.0.1:8025/messages.json  [{id, from, to, reply_to, subject, text, html,
                                           attachments: [{filename, content_type}], sent_at}]
    /messages/<id>/attachments/<n>       the n-th attachment, with its own content type
    .localdev/outbox/*.eml               one file per message

Headers are shown decoded (RFC 2047), as a mail client shows them.
"""

from __future__ import annotations

import email
import email.parser
import email.policy
import json
import os
import threading
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from localdev.console import Console

# What messages.json shows of each message (attachments without their bytes).
PUBLIC_FIELDS = (
    "id", "from", "to", "reply_to", "subject", "text", "html", "attachments", "sent_at",
)  # fmt: skip


class Outbox:
    """What SES accepted, newest first. Each message's headers are read as it arrives (the
    list and the console need no more); its parts only when someone opens it."""

    def __init__(self, directory: Path, console: Console | None = None) -> None:
        self._directory = directory
        self._console = console
        self._messages: list[_Kept] = []
        self._lock = threading.Lock()
        directory.mkdir(parents=True, exist_ok=True)

    def add(self, raw: Any) -> None:
        """Keep a message SES accepted, as the emulator reports it (`id`, `source`, `raw_data`)."""
        kept = _Kept(raw.id, raw.source, getattr(raw, "raw_data", ""))
        name = f"{kept.headers['sent_at'].replace(':', '')}-{kept.id}.eml"
        # Written whole, then renamed: whoever watches the folder never reads half a message.
        partial = self._directory / f".{name}.partial"
        partial.write_text(kept.raw)
        os.replace(partial, self._directory / name)
        with self._lock:
            self._messages.append(kept)
        if self._console is not None:
            headers = kept.headers
            self._console.email(
                ", ".join(headers["to"]), headers["subject"], headers["reservation_id"]
            )

    def messages(self) -> list[dict[str, Any]]:
        """Newest first, each with its parts (messages.json)."""
        return [{k: m.whole()[k] for k in PUBLIC_FIELDS} for m in self._newest_first()]

    def summaries(self) -> list[dict[str, Any]]:
        """Newest first, headers only (the list page)."""
        return [m.headers for m in self._newest_first()]

    def message(self, message_id: str) -> dict[str, Any] | None:
        found = next((m for m in self._newest_first() if m.id == message_id), None)
        return None if found is None else found.whole()

    def attachment(self, message_id: str, index: int) -> tuple[str, str, bytes] | None:
        """(filename, Content-Type header, bytes) of a message's attachment, or None."""
        found = self.message(message_id)
        files = found["files"] if found else []
        return files[index] if 0 <= index < len(files) else None

    def _newest_first(self) -> list[_Kept]:
        with self._lock:
            return list(reversed(self._messages))


class _Kept:
    """One message: its raw text, its headers decoded, and its parts once asked for."""

    def __init__(self, message_id: str, source: str, raw: str) -> None:
        self.id, self.raw = message_id, raw
        parsed = email.parser.Parser(policy=email.policy.default).parsestr(raw, headersonly=True)
        assert isinstance(parsed, EmailMessage)
        sent_at = parsedate_to_datetime(parsed["Date"]) if parsed["Date"] else None
        self.headers: dict[str, Any] = {
            "id": message_id,
            "from": str(parsed.get("From", "")) or source,
            "to": _addresses(parsed, "To"),
            "reply_to": _addresses(parsed, "Reply-To"),
            "subject": str(parsed.get("Subject", "")),
            "sent_at": sent_at.isoformat() if sent_at else "",
            "reservation_id": parsed.get("X-Reservation-Id"),
        }
        self._whole: dict[str, Any] | None = None
        self._lock = threading.Lock()

    def whole(self) -> dict[str, Any]:
        with self._lock:
            if self._whole is None:
                self._whole = {**self.headers, **_parts(self.raw)}
            return self._whole


def _parts(raw: str) -> dict[str, Any]:
    parsed = email.message_from_string(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    files = [
        (part.get_filename() or f"attachment-{n + 1}", str(part["Content-Type"]), _bytes(part))
        for n, part in enumerate(parsed.iter_attachments())
    ]
    return {
        "text": _text(parsed.get_body(("plain",))),
        "html": _text(parsed.get_body(("html",))),
        "attachments": [
            {"filename": name, "content_type": content_type.split(";")[0].strip()}
            for name, content_type, _ in files
        ],
        "files": files,
    }


def _addresses(message: EmailMessage, header: str) -> list[str]:
    """A header's addresses, decoded ("Café Élodie <a@b.example>"), one string each."""
    value = message.get(header)
    if value is None:
        return []
    addresses = getattr(value, "addresses", None)
    if addresses is None:
        return [a.strip() for a in str(value).split(",") if a.strip()]
    return [str(address) for address in addresses]


def _text(part: Any) -> str:
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # an unknown charset: show what can be shown
        content = _bytes(part).decode("utf-8", errors="replace")
    return str(content).replace("\r\n", "\n")


def _bytes(part: EmailMessage) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


class FaultControl(Protocol):
    def faults(self) -> str: ...

    def set_faults(self, spec: str) -> str: ...


FAULTS_PATH = "/control/faults"


def serve(
    outbox: Outbox, host: str, port: int, faults: FaultControl | None = None
) -> ThreadingHTTPServer:
    """Start the outbox's web server on a thread; `shutdown()` stops it. With `faults`, it
    also answers `GET`/`PUT` on /control/faults (`python -m localdev.faults`)."""

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:  # noqa: N802 - the http.server API
            if self.path != FAULTS_PATH or faults is None:
                self._send(404, "text/plain", "not found")
                return
            spec = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            try:
                self._send(200, "text/plain", faults.set_faults(spec))
            except ValueError as error:
                self._send(400, "text/plain", str(error))

        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            path = self.path.split("?", 1)[0]
            if path == FAULTS_PATH and faults is not None:
                self._send(200, "text/plain", faults.faults())
                return
            self._send(*_page(outbox, path))

        def _send(
            self,
            status: int,
            content_type: str,
            body: str | bytes,
            headers: dict[str, str] | None = None,
        ) -> None:
            data = body.encode() if isinstance(body, str) else body
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass  # the console has a line per email already

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="outbox", daemon=True).start()
    return server


Answer = tuple[int, str, str | bytes, dict[str, str]]


def _page(outbox: Outbox, path: str) -> Answer:
    if path == "/messages.json":
        return 200, "application/json", json.dumps(outbox.messages(), indent=2), {}
    if path == "/":
        return 200, "text/html; charset=utf-8", _index(outbox.summaries()), {}
    if path.startswith("/messages/"):
        wanted, _, rest = path.removeprefix("/messages/").partition("/")
        if rest.startswith("attachments/"):
            return _attachment(outbox, wanted, rest.removeprefix("attachments/"))
        found = outbox.message(wanted)
        if found is not None and not rest:
            return 200, "text/html; charset=utf-8", _message_page(found), {}
        return 404, "text/plain", "no such message", {}
    return 404, "text/plain", "not found", {}


def _attachment(outbox: Outbox, message_id: str, rest: str) -> Answer:
    """`<n>` or `<n>/<filename>`: the n-th attachment, downloaded with its content type."""
    number = rest.split("/", 1)[0]
    found = outbox.attachment(message_id, int(number)) if number.isdigit() else None
    if found is None:
        return 404, "text/plain", "no such attachment", {}
    filename, content_type, data = found
    disposition = f"attachment; filename*=UTF-8''{quote(filename)}"
    return 200, content_type, data, {"Content-Disposition": disposition}


_STYLE = (
    "<style>body{font-family:system-ui,sans-serif;margin:2em}td,th{padding:.3em .8em;"
    "text-align:left;border-bottom:1px solid #ddd}iframe{width:100%;height:32em;"
    "border:1px solid #ccc}pre{white-space:pre-wrap;background:#f6f6f6;padding:1em}</style>"
)


def _index(messages: list[dict[str, Any]]) -> str:
    rows = "".join(
        f"<tr><td>{escape(m['sent_at'])}</td><td>{escape(', '.join(m['to']))}</td>"
        f'<td><a href="/messages/{escape(m["id"])}">{escape(m["subject"])}</a></td></tr>'
        for m in messages
    )
    empty = "" if messages else "<p>No email yet. Book a table and it will show up here.</p>"
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>Outbox</title>{_STYLE}'
        '<meta http-equiv="refresh" content="5"></head><body><h1>Outbox</h1>'
        f'<p>{len(messages)} message(s), newest first. <a href="/messages.json">JSON</a></p>'
        f"{empty}<table><tr><th>Sent</th><th>To</th><th>Subject</th></tr>{rows}</table>"
        "</body></html>"
    )


def _message_page(message: dict[str, Any]) -> str:
    # The HTML part renders in a sandboxed frame (no scripts, no same origin); links open in
    # a new tab.
    html = message["html"].replace("<a ", '<a target="_blank" ')
    reply_to = (
        f"<p>Replies go to {escape(', '.join(message['reply_to']))}</p>"
        if message["reply_to"]
        else ""
    )
    files = "".join(
        f'<li><a href="/messages/{quote(message["id"])}/attachments/{n}/'
        f'{quote(item["filename"])}" download="{escape(item["filename"])}">'
        f"{escape(item['filename'])}</a> ({escape(item['content_type'])})</li>"
        for n, item in enumerate(message["attachments"])
    )
    attachments = f"<h3>Attachments</h3><ul>{files}</ul>" if files else ""
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{escape(message["subject"])}'
        f'</title>{_STYLE}</head><body><p><a href="/">← Outbox</a></p>'
        f"<h2>{escape(message['subject'])}</h2>"
        f"<p>From {escape(message['from'])} to {escape(', '.join(message['to']))}, "
        f"{escape(message['sent_at'])}</p>{reply_to}"
        f'<iframe sandbox="allow-popups allow-popups-to-escape-sandbox" '
        f'srcdoc="{escape(html)}"></iframe>{attachments}'
        f"<h3>Plain text</h3><pre>{escape(message['text'])}</pre></body></html>"
    )
