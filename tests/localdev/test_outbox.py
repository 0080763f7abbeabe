"""The mail outbox as a developer uses it: a French confirmation with its calendar invite, sent
through SES (moto, in process) by the app's own mailer, read on the outbox's pages over HTTP."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.ses.models import ses_backends

from chalicelib.adapters.mailer import SesMailer
from chalicelib.domain.events import event_for_change
from chalicelib.domain.reservations import Status
from chalicelib.domain.restaurants import Restaurant
from chalicelib.services.emails import Email, guest_email
from localdev.aws_emulation import ACCOUNT
from localdev.outbox import Outbox, serve
from tests.builders import NOW, restaurant_spec, stored_reservation
from tests.ics import read_invite

REGION = "eu-west-1"
SENDER = "no-reply@reservations.test"
SCRIPT = "<script>alert(1)</script>"


def french_confirmation() -> Email:
    spec = restaurant_spec(
        name="Café Élodie",
        locale="fr",
        address="12 rue des Martyrs, 75009 Paris",
        contact_email="bonjour@cafe-elodie.example",
    )
    place = Restaurant(**spec.model_dump(), version=1, created_at=NOW, updated_at=NOW)
    before = stored_reservation(notes=f"Allergie {SCRIPT}")
    assert before.guest is not None
    guest = before.guest.model_copy(update={"name": "Élodie Dupré"})
    before = before.model_copy(update={"guest": guest})
    event = event_for_change(before, before.moved_to(Status.ACCEPTED, now=NOW + timedelta(hours=1)))
    assert event is not None
    return guest_email(event, place, "https://x.test/manage?token=t")


def sent_through_ses(*emails: Email) -> list[Any]:
    """What the emulator's SES keeps of each email the app's mailer sends."""
    with mock_aws():
        ses = boto3.client("ses", region_name=REGION)
        ses.verify_email_identity(EmailAddress=SENDER)
        for message in emails:
            SesMailer(ses, SENDER).send(message)
        return list(ses_backends[ACCOUNT][REGION].sent_messages)


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[tuple[Outbox, str]]:
    box = Outbox(tmp_path / "outbox")
    for raw in sent_through_ses(french_confirmation()):
        box.add(raw)
    server: ThreadingHTTPServer = serve(box, "127.0.0.1", 0)
    try:
        yield box, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, dict(response.headers), response.read()


def test_messages_json_shows_headers_decoded_with_reply_to_and_attachments(
    outbox: tuple[Outbox, str],
) -> None:
    _, base = outbox
    [message] = json.loads(get(f"{base}/messages.json")[2])
    assert message["subject"] == "Confirmée\u00a0: votre table chez Café Élodie, mer. 4 mars 19:30"
    assert message["from"] == f"Café Élodie <{SENDER}>"
    assert message["to"] == ["ada@example.com"]
    assert message["reply_to"] == ["bonjour@cafe-elodie.example"]
    assert message["attachments"] == [{"filename": "invite.ics", "content_type": "text/calendar"}]
    assert "Élodie Dupré" in message["text"] and "\r" not in message["text"]
    assert "&lt;script&gt;" not in message["html"]  # a confirmation does not repeat the notes
    assert set(message) == {
        "id", "from", "to", "reply_to", "subject", "text", "html", "attachments", "sent_at",
    }  # fmt: skip


def test_the_list_and_the_message_page_show_the_decoded_subject(
    outbox: tuple[Outbox, str],
) -> None:
    box, base = outbox
    [message] = box.messages()
    index = get(f"{base}/")[2].decode()
    assert "Café Élodie, mer. 4 mars" in index and "=?utf-8?" not in index
    status, headers, body = get(f"{base}/messages/{message['id']}")
    page = body.decode()
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "=?utf-8?" not in page
    assert "From Café Élodie &lt;no-reply@reservations.test&gt;" in page
    assert "Replies go to bonjour@cafe-elodie.example" in page
    assert '<iframe sandbox="allow-popups allow-popups-to-escape-sandbox" srcdoc=' in page
    assert f'/messages/{message["id"]}/attachments/0/invite.ics" download="invite.ics"' in page


def test_the_invite_downloads_with_its_content_type(outbox: tuple[Outbox, str]) -> None:
    box, base = outbox
    [message] = box.messages()
    status, headers, body = get(f"{base}/messages/{message['id']}/attachments/0/invite.ics")
    assert status == 200
    assert headers["Content-Type"].startswith("text/calendar")
    assert 'method="REQUEST"' in headers["Content-Type"]
    assert headers["Content-Disposition"] == "attachment; filename*=UTF-8''invite.ics"
    invite = read_invite(body)
    assert (invite.method, invite.attendee_name) == ("REQUEST", "Élodie Dupré")


@pytest.mark.parametrize("path", ["attachments/1", "attachments/x", "attachments/", "other"])
def test_a_missing_attachment_is_a_404(outbox: tuple[Outbox, str], path: str) -> None:
    box, base = outbox
    [message] = box.messages()
    with pytest.raises(urllib.error.HTTPError) as missing:
        get(f"{base}/messages/{message['id']}/{path}")
    assert missing.value.code == 404


def test_a_plain_message_has_no_attachments(tmp_path: Path) -> None:
    plain: dict[str, Any] = {
        "to": ("ann@example.com",),
        "subject": "Hello",
        "text": "Hi",
        "html": "<p>Hi</p>",
        "reservation_id": "r",
        "event_id": "e",
    }
    box = Outbox(tmp_path)
    [raw] = sent_through_ses(Email(**plain))
    box.add(raw)
    [message] = box.messages()
    assert (message["attachments"], message["reply_to"], message["from"]) == ([], [], SENDER)
