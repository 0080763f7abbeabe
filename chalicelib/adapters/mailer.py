"""Sends emails through SES as MIME (plain text and HTML alternatives)."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from chalicelib.services.emails import Email


class SesMailer:
    def __init__(self, client: Any, sender: str) -> None:
        self._client = client
        self._sender = sender

    def send(self, email: Email) -> str:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = ", ".join(email.to)
        message["Subject"] = email.subject
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = make_msgid(domain=self._sender.rpartition("@")[2] or None)
        message["X-Reservation-Id"] = email.reservation_id
        message["X-Event-Id"] = email.event_id
        if email.correlation_id:
            message["X-Correlation-Id"] = email.correlation_id
        message.set_content(email.text)
        message.add_alternative(email.html, subtype="html")
        response = self._client.send_raw_email(
            Source=self._sender,
            Destinations=list(email.to),
            RawMessage={"Data": message.as_bytes()},
        )
        return str(response["MessageId"])
