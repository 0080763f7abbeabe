"""Sends emails through SES as MIME: text and HTML (and a calendar invite) as alternatives,
inside multipart/mixed when there are attachments; every header RFC 2047-encoded where it
is not ASCII (the SMTP policy), CRLF line ends."""

from __future__ import annotations

import re
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any

from chalicelib.services.emails import Email
from chalicelib.services.ports import Mailer


class UndeliverableAddress(ValueError):
    """An address SES cannot deliver to (a non-ASCII local part: SES has no SMTPUTF8)."""


class MailNotSent(RuntimeError):
    """An email that could not be sent, said without the addresses in it: SES's own messages
    name them ("The following identities failed the check: ada@…"), and this text ends up in
    the logs (Lambda's report of the failed invocation) and on the reservation's timeline."""


# Anything shaped like an address, in a message about a failed send.
_ADDRESS = re.compile(r"[^\s'\"<>,;:()\[\]]+@[^\s'\"<>,;:()\[\]]+")


def without_addresses(text: str) -> str:
    """`text` with every email address in it replaced by `<address>`."""
    return _ADDRESS.sub("<address>", text)


def ascii_address(address: str) -> str:
    """`address` as it travels: an international domain in its ASCII (IDNA) form."""
    local, _, domain = address.strip().rpartition("@")
    if not local.isascii():
        raise UndeliverableAddress(f"cannot deliver to {address!r}: the part before @ is not ASCII")
    return f"{local}@{domain.encode('idna').decode('ascii')}"


def mime_message(email: Email, sender: str) -> EmailMessage:
    """The message as it is sent: From is `sender` under the email's display name."""
    sender_address = ascii_address(parseaddr(sender)[1])
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = Address(display_name=email.from_name or "", addr_spec=sender_address)
    message["To"] = [Address(addr_spec=ascii_address(a)) for a in email.to]
    if email.reply_to:
        message["Reply-To"] = [Address(addr_spec=ascii_address(a)) for a in email.reply_to]
    message["Subject"] = email.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender_address.rpartition("@")[2] or None)
    if email.reservation_id:  # a sign-in link is about no reservation
        message["X-Reservation-Id"] = email.reservation_id
    message["X-Event-Id"] = email.event_id
    if email.correlation_id:
        message["X-Correlation-Id"] = email.correlation_id
    # Quoted-printable keeps every part 7-bit clean (accents, long lines) and readable.
    message.set_content(email.text, cte="quoted-printable")
    message.add_alternative(email.html, subtype="html", cte="quoted-printable")
    if email.calendar is not None:
        # Base64 keeps the iCalendar object's CRLF line ends and folding byte for byte.
        message.add_alternative(
            email.calendar.ics().encode(),
            maintype="text",
            subtype="calendar",
            params={"method": email.calendar.method, "charset": "utf-8"},
        )
    for attachment in email.attachments:
        maintype, _, rest = attachment.content_type.partition("/")
        subtype, *parameters = (piece.strip() for piece in rest.split(";"))
        params = dict(p.split("=", 1) for p in parameters if "=" in p)
        if maintype == "text":
            params.setdefault("charset", "utf-8")
        message.add_attachment(
            attachment.data,
            maintype=maintype,
            subtype=subtype,
            filename=attachment.filename,
            params=params,
        )
    return message


class SesMailer:
    def __init__(self, client: Any, sender: str) -> None:
        self._client = client
        self._sender = sender

    def send(self, email: Email) -> str:
        """SES's message id, or MailNotSent (retried by the caller's event source)."""
        try:
            message = mime_message(email, self._sender)
            response = self._client.send_raw_email(
                Source=ascii_address(parseaddr(self._sender)[1]),
                Destinations=[ascii_address(address) for address in email.to],
                RawMessage={"Data": message.as_bytes()},
            )
        except Exception as error:
            # Not chained: the original (and its traceback's text) names the recipients.
            raise MailNotSent(f"{type(error).__name__}: {without_addresses(str(error))}") from None
        return str(response["MessageId"])


class PacedMailer:
    """Sends through `mailer` at most one email per `seconds_between` (waiting when it must),
    so that one invocation keeps to its part of the account's SES rate. The pace holds across
    the warm invocations of one execution environment."""

    def __init__(
        self,
        mailer: Mailer,
        seconds_between: float,
        clock: Any = None,
        sleep: Any = None,
    ) -> None:
        import time

        self._mailer = mailer
        self._seconds_between = seconds_between
        self._clock = clock or time.monotonic
        self._sleep = sleep or time.sleep
        self._next_at: float | None = None

    def send(self, email: Email) -> str:
        now = self._clock()
        if self._next_at is not None and now < self._next_at:
            self._sleep(self._next_at - now)
            now = self._next_at
        self._next_at = now + self._seconds_between
        return self._mailer.send(email)
