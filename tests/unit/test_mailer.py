"""The MIME message as it goes to SES, read back as a mail client would read it."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest

from chalicelib.adapters.mailer import UndeliverableAddress, mime_message
from chalicelib.domain.events import event_for_change
from chalicelib.domain.reservations import Status
from chalicelib.domain.restaurants import Restaurant
from chalicelib.services.emails import Email, guest_email
from tests.builders import NOW, restaurant_spec, stored_reservation
from tests.ics import read_invite

SENDER = "no-reply@reservations.example"


def read_back(message: Email, sender: str = SENDER) -> tuple[bytes, EmailMessage]:
    raw = mime_message(message, sender).as_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return raw, parsed


def confirmation(**restaurant: Any) -> Email:
    spec = restaurant_spec(**{"name": "Café Élodie", "locale": "fr", **restaurant})
    place = Restaurant(**spec.model_dump(), version=1, created_at=NOW, updated_at=NOW)
    before = stored_reservation()
    assert before.guest is not None
    guest = before.guest.model_copy(update={"name": "Élodie Dupré"})
    before = before.model_copy(update={"guest": guest})
    after = before.moved_to(Status.ACCEPTED, now=NOW + timedelta(hours=1))
    event = event_for_change(before, after)
    assert event is not None
    return guest_email(event, place, "https://x.test/manage?token=t")


def plain(**overrides: object) -> Email:
    fields: dict[str, object] = {
        "to": ("elodie@example.com", "chef@café.example"),
        "subject": "Réservation: Élodie, 2 personnes",
        "text": "Bonjour Élodie\n" + "é" * 200 + "\n",
        "html": "<p>Bonjour &Eacute;lodie</p>",
        "reservation_id": "r-1",
        "event_id": "e-1",
        "correlation_id": "c-1",
        "from_name": "Café Élodie",
        "reply_to": ("bonjour@café.example",),
    }
    fields.update(overrides)
    return Email(**fields)  # type: ignore[arg-type]


def test_non_ascii_headers_are_encoded_and_read_back_whole() -> None:
    raw, parsed = read_back(plain())
    raw.decode("ascii")  # every header and part is 7-bit: encoded words and quoted-printable
    assert b"=?utf-8?" in raw and "Élodie".encode() not in raw
    assert parsed["Subject"] == "Réservation: Élodie, 2 personnes"
    [sender] = parsed["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("Café Élodie", SENDER)
    assert [a.addr_spec for a in parsed["To"].addresses] == [
        "elodie@example.com",
        "chef@xn--caf-dma.example",  # an international domain in its ASCII form
    ]
    assert [a.addr_spec for a in parsed["Reply-To"].addresses] == ["bonjour@xn--caf-dma.example"]
    assert (parsed["X-Reservation-Id"], parsed["X-Event-Id"]) == ("r-1", "e-1")
    assert parsed["X-Correlation-Id"] == "c-1"
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")  # CRLF, as SMTP wants


def test_text_and_html_are_alternatives_and_survive_the_trip() -> None:
    raw, parsed = read_back(plain())
    assert parsed.get_content_type() == "multipart/alternative"
    text, html = (parsed.get_body((kind,)) for kind in ("plain", "html"))
    assert text is not None and html is not None
    assert text.get_content().replace("\r\n", "\n") == "Bonjour Élodie\n" + "é" * 200 + "\n"
    assert html.get_content().strip() == "<p>Bonjour &Eacute;lodie</p>"
    assert not list(parsed.iter_attachments())


def test_a_sender_configured_with_a_name_still_sends_under_the_restaurants() -> None:
    _, parsed = read_back(plain(), "Reservations <no-reply@reservations.example>")
    [sender] = parsed["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("Café Élodie", SENDER)


def test_the_confirmation_is_mixed_alternatives_with_the_invite_and_its_attachment() -> None:
    message = confirmation()
    raw, parsed = read_back(message)
    raw.decode("ascii")
    assert parsed["Subject"] == "Confirmée\u00a0: votre table chez Café Élodie, mer. 4 mars 19:30"
    assert parsed.get_content_type() == "multipart/mixed"
    [alternatives, attachment] = parsed.iter_parts()
    assert alternatives.get_content_type() == "multipart/alternative"
    kinds = [part.get_content_type() for part in alternatives.iter_parts()]
    assert kinds == ["text/plain", "text/html", "text/calendar"]
    calendar = parsed.get_body(("calendar",))
    assert calendar is not None and calendar.get_param("method") == "REQUEST"
    assert message.calendar is not None
    assert calendar.get_payload(decode=True) == message.calendar.ics().encode()  # byte for byte
    assert isinstance(attachment, EmailMessage)
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_param("method") == "REQUEST"
    ics = attachment.get_payload(decode=True)
    assert isinstance(ics, bytes)
    invite = read_invite(ics)
    assert (invite.method, invite.attendee_name) == ("REQUEST", "Élodie Dupré")
    assert invite.organizer_name == "Café Élodie"


def test_reply_to_of_a_guest_email_is_the_restaurant() -> None:
    _, parsed = read_back(confirmation(contact_email="bonjour@chez-test.example"))
    assert [a.addr_spec for a in parsed["Reply-To"].addresses] == ["bonjour@chez-test.example"]


def test_an_address_ses_cannot_deliver_to_is_refused_by_name() -> None:
    with pytest.raises(UndeliverableAddress, match="élodie@example.com"):
        mime_message(plain(to=("élodie@example.com",)), SENDER)
