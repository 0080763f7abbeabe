"""The whole flow through the real handlers on moto: POST -> stream -> PutEvents -> rule ->
SQS -> staff email -> accept link -> stream -> guest email, plus the daily summary."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from chalice.app import DynamoDBEvent

from chalicelib.adapters.stream import is_reservation_change
from localdev.aws_emulation import ACCOUNT
from localdev.lambda_shapes import eventbridge_event, sqs_event
from tests.app.conftest import upcoming_wednesday
from tests.pipeline import RES, Flow, sent_emails


def links_in(text: str) -> dict[str, str]:
    return {
        label.lower(): url
        for label, url in re.findall(r"^(Accept|Decline):\s+(\S+)$", text, flags=re.MULTILINE)
    }


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_request_to_staff_email_to_accept_to_guest_email(flow: Flow) -> None:
    booked = flow.book(hhmm="19:30", party_size=3)
    records = flow.pipeline.stream_records()
    assert records and all("eventSourceARN" in r for r in records)
    assert flow.pipeline.run_stream(records) == {"batchItemFailures": []}
    messages = flow.pipeline.staff_messages()
    assert len(messages) == 1  # the rule routed ReservationRequested to the staff queue
    assert flow.pipeline.run_staff(messages) == {"batchItemFailures": []}

    [staff_email] = sent_emails()
    day = upcoming_wednesday()
    assert staff_email.to == ("chef@a.example", "desk@a.example")
    assert staff_email.subject == (
        f"Booking request: Grace Hopper, 3 guests, {day:%a} {day.day} {day:%b} 19:30"
    )
    assert "grace@example.com" in staff_email.text and "+14155550100" in staff_email.text
    assert "Birthday <b>cake</b>" in staff_email.text
    assert "Birthday &lt;b&gt;cake&lt;/b&gt;" in staff_email.html  # notes escaped in HTML
    assert staff_email.headers["X-Reservation-Id"] == booked["id"]
    links = links_in(staff_email.text)
    assert set(links) == {"accept", "decline"}
    assert all(url.startswith("https://reservations.test/") for url in links.values())
    assert links["accept"] in staff_email.html.replace("&amp;", "&")

    # Opening the link (as a mail scanner would) changes nothing.
    status, page, headers = flow.api.call("GET", path_of(links["accept"]))
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "Accept reservation" in page and '<form method="post"' in page
    assert flow.api.call("GET", f"{RES}/{booked['id']}", None, flow.staff)[1]["status"] == (
        "PENDING"
    )
    # The page's button POSTs the signed link: accepted, and again shows the current status.
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    status, page, _ = flow.api.call("POST", path_of(links["accept"]), "", form)
    assert status == 200 and "Reservation accepted" in page
    status, page, _ = flow.api.call("POST", path_of(links["accept"]), "", form)
    assert status == 200 and "already accepted" in page
    status, page, _ = flow.api.call("POST", path_of(links["decline"]), "reason=x", form)
    assert status == 200 and "already accepted" in page

    flow.pipeline.drain()
    guest_emails = [e for e in sent_emails() if e.to == ("grace@example.com",)]
    received, confirmation = guest_emails  # the request's receipt, then the answer
    assert received.subject == (
        f"Request received: your table at Chez Test, {day:%a} {day.day} {day:%b} 19:30"
    )
    assert confirmation.subject.startswith("Confirmed: your table at Chez Test")
    assert confirmation.headers["Reply-To"] == "chef@a.example"  # the first staff address
    assert str(confirmation.headers["From"]).startswith("Chez Test <")
    invite = confirmation.headers.get_body(("calendar",))
    assert invite is not None and invite.get_param("method") == "REQUEST"
    assert "UID:" + booked["id"] + "@reservations" in invite.get_content()
    for email in (received, confirmation):
        manage = re.search(r"https://reservations\.test(\S+/manage\?token=\S+)", email.text)
        assert manage, email.text
        status, page, _ = flow.api.call("GET", manage.group(1))
        assert status == 200 and "Cancel my reservation" in page
    assert flow.summary() == {
        "date": day.isoformat(),
        "requested": 1,
        "pending": 0,
        "accepted": 1,
        "declined": 0,
        "cancelled": 0,
        "covers_booked": 3,
    }


def test_decline_with_reason_and_guest_cancel_emails(flow: Flow) -> None:
    declined, cancelled = flow.book(hhmm="12:00"), flow.book(hhmm="12:15", party_size=4)
    flow.pipeline.drain()
    flow.api.call(
        "POST", f"{RES}/{declined['id']}/decline", {"reason": "Private event"}, flow.staff
    )
    flow.api.call("POST", f"{RES}/{cancelled['id']}/cancel?token={cancelled['manage_token']}")
    flow.pipeline.drain()
    guest = [e for e in sent_emails() if e.to == ("grace@example.com",)]
    assert sorted(e.subject.split(":")[0].split(" ")[0] for e in guest) == [
        "Cancelled",
        "Request",
        "Request",
        "Your",
    ]
    [decline] = [e for e in guest if "declined" in e.subject]
    assert "Reason: Private event" in decline.text
    [cancellation] = [e for e in guest if e.subject.startswith("Cancelled")]
    assert "as you asked" in cancellation.text
    assert cancellation.headers.get_body(("calendar",)) is None  # never confirmed: no invite
    # Staff hear of the guest's cancellation (replies go to the guest), not of their decline.
    to_staff = [e for e in sent_emails() if e.to == ("chef@a.example", "desk@a.example")]
    assert [e.subject.split(":")[0] for e in to_staff] == ["Booking request"] * 2 + [
        "Cancelled by the guest"
    ]
    assert to_staff[-1].headers["Reply-To"] == "grace@example.com"
    assert "The table is free again." in to_staff[-1].text
    summary = flow.summary()
    assert (summary["requested"], summary["declined"], summary["cancelled"]) == (2, 1, 1)
    assert (summary["pending"], summary["covers_booked"]) == (0, 0)


def test_signed_links_refuse_tampering_and_other_reservations(flow: Flow) -> None:
    first, second = flow.book(), flow.book(hhmm="12:00")
    flow.pipeline.drain()
    links = links_in(sent_emails()[0].text)
    forged = path_of(links["accept"]).replace("action=accept", "action=decline")
    assert flow.api.call("GET", forged)[0] == 403
    other = path_of(links["accept"]).replace(first["id"], second["id"])
    assert flow.api.call("GET", other)[0] == 403
    assert flow.api.call("GET", f"{RES}/{first['id']}/respond")[0] == 403


EVENTS = Path(__file__).parent.parent / "events"


def keys(value: Any) -> Any:
    """The shape of a JSON value: its keys, recursively (images are data, not shape)."""
    if isinstance(value, dict):
        return {
            k: (None if k in {"Keys", "NewImage", "OldImage"} else keys(v))
            for k, v in value.items()
        }
    return type(value).__name__


def test_handlers_get_events_shaped_exactly_as_lambda_delivers_them(flow: Flow) -> None:
    flow.book()
    record = next(r for r in flow.pipeline.stream_records() if is_reservation_change(r))
    [sample] = json.loads((EVENTS / "dynamodb_stream.json").read_text())["Records"]
    assert keys(record) == keys(sample)
    parsed = next(iter(DynamoDBEvent({"Records": [record]}, None)))  # Chalice's own reader
    assert parsed.event_source_arn == flow.pipeline.stream_arn
    assert parsed.table_name == "reservations-test"
    assert isinstance(parsed.timestamp, datetime)  # from epoch seconds, as Lambda sends

    flow.pipeline.run_stream([record])
    [message] = flow.pipeline.staff_messages()
    [sqs_record] = sqs_event([message], flow.pipeline.staff_queue_arn)["Records"]
    [sqs_sample] = json.loads((EVENTS / "sqs.json").read_text())["Records"]
    assert keys(sqs_record) == keys(sqs_sample)
    delivered = eventbridge_event(json.loads(sqs_record["body"]), ACCOUNT)
    sample_event = json.loads((EVENTS / "eventbridge.json").read_text())
    assert set(delivered) == set(sample_event)
    assert delivered["account"] == ACCOUNT and delivered["source"] == "reservations"
