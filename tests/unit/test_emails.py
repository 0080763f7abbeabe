"""What each email says, in whose language, to whom, and that nothing a guest or a restaurant
typed reaches the HTML unescaped; the notifiers choose the email from the event, against
in-memory stores and a mailer that keeps what it is given."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib.domain.events import BusinessEvent, event_for_change
from chalicelib.domain.reservations import Reservation, Status
from chalicelib.domain.restaurants import Restaurant
from chalicelib.domain.tokens import ManageTokens
from chalicelib.services.emails import (
    Email,
    guest_email,
    staff_cancellation_email,
    staff_request_email,
)
from chalicelib.services.notifications import DAY_VIEW_LINK_LIFETIME, GuestNotifier, StaffNotifier
from chalicelib.web.links import StaffLinks, StaffLinkSigner, recipients_digest
from tests.builders import NOW, Clock, restaurant_spec, stored_reservation
from tests.fakes import InMemoryRestaurants
from tests.ics import ReadInvite, read_invite

NBSP = "\u00a0"
PARIS_PLACE = {"address": "12 rue des Martyrs, 75009 Paris", "phone": "+33142000000"}


def restaurant(**overrides: Any) -> Restaurant:
    spec = restaurant_spec(**{**PARIS_PLACE, **overrides})
    return Restaurant(**spec.model_dump(), version=1, created_at=NOW, updated_at=NOW)


def booked(**changes: Any) -> Reservation:
    """A PENDING request for Wednesday 4 March 2026, 19:30 in Paris (18:30 UTC)."""
    return stored_reservation(notes="Birthday\ncake").model_copy(update=changes)


def requested(reservation: Reservation | None = None) -> BusinessEvent:
    event = event_for_change(None, reservation or booked())
    assert event is not None
    return event


def moved(
    status: Status, before: Reservation | None = None, **how: Any
) -> tuple[Reservation, BusinessEvent]:
    before = before or booked()
    after = before.moved_to(status, now=NOW + timedelta(hours=1), **how)
    event = event_for_change(before, after)
    assert event is not None
    return after, event


def staff_request(place: Restaurant, event: BusinessEvent | None = None) -> Email:
    return staff_request_email(
        event or requested(),
        place,
        "https://x.test/accept",
        "https://x.test/decline",
        "https://x.test/day",
    )


def calendar_of(email: Email) -> ReadInvite:
    assert email.calendar is not None
    [attachment] = email.attachments
    assert attachment.filename == "invite.ics"
    assert attachment.content_type == f"text/calendar; method={email.calendar.method}"
    assert attachment.data == email.calendar.ics().encode()  # one invite, two places
    return read_invite(attachment.data)


# -- staff ------------------------------------------------------------------------------------


def test_the_staff_request_in_english() -> None:
    email = staff_request(restaurant())
    assert email.subject == "Booking request: Ada Lovelace, 4 guests, Wed 4 Mar 19:30"
    assert email.to == ("staff@chez-test.example",)
    assert email.reply_to == ("ada@example.com",) and email.from_name == "Chez Test"
    assert "Ada Lovelace asks for a table for 4 guests on Wednesday, 4 March 2026 at 19:30." in (
        email.text
    )
    lines = email.text.splitlines()
    assert "Accept: https://x.test/accept" in lines and "Decline: https://x.test/decline" in lines
    assert "Open the day's bookings: https://x.test/day" in lines
    assert "Phone: +33612345678" in lines and "Notes: Birthday" in lines
    assert '<a href="https://x.test/day">Open the day&#x27;s bookings</a>' in email.html
    assert "Birthday<br>cake" in email.html  # the guest's line breaks kept


def test_the_staff_request_in_french_for_a_french_restaurant() -> None:
    email = staff_request(restaurant(locale="fr"))
    assert email.subject == (
        f"Demande de réservation{NBSP}: Ada Lovelace, 4 personnes, mer. 4 mars 19:30"
    )
    assert "Ada Lovelace demande une table pour 4 personnes le mercredi 4 mars 2026 à 19:30." in (
        email.text
    )
    lines = email.text.splitlines()
    assert f"Accepter{NBSP}: https://x.test/accept" in lines
    assert f"Voir les réservations du jour{NBSP}: https://x.test/day" in lines
    assert ">Voir les réservations du jour</a>" in email.html


def test_a_guest_who_chose_english_does_not_change_the_staff_language() -> None:
    email = staff_request(restaurant(locale="fr"), requested(booked(language="en")))
    assert email.subject.startswith("Demande de réservation")


def test_staff_hear_of_a_guests_cancellation() -> None:
    _, event = moved(Status.CANCELLED, cancelled_by="guest")
    email = staff_cancellation_email(event, restaurant(), "https://x.test/day")
    assert email.subject == "Cancelled by the guest: Ada Lovelace, 4 guests, Wed 4 Mar 19:30"
    assert "The table is free again." in email.text
    assert "Open the day's bookings: https://x.test/day" in email.text.splitlines()
    assert email.reply_to == ("ada@example.com",)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_email_names_the_restaurant_its_address_and_phone(language: str) -> None:
    place = restaurant(locale=language)
    accepted, confirmed = moved(Status.ACCEPTED)
    _, cancelled = moved(Status.CANCELLED, accepted, cancelled_by="guest")
    emails = [
        staff_request(place),
        staff_cancellation_email(cancelled, place, "https://x.test/day"),
        guest_email(requested(), place, "https://x.test/manage"),
        guest_email(confirmed, place, "https://x.test/manage"),
        guest_email(moved(Status.DECLINED, decline_reason="Private event")[1], place, "-"),
        guest_email(cancelled, place, "https://x.test/manage"),
    ]
    for email in emails:
        for part in ("Chez Test", "12 rue des Martyrs, 75009 Paris", "+33142000000"):
            assert part in email.text and part in email.html, (email.subject, part)
        assert email.from_name == "Chez Test"


# -- guests -----------------------------------------------------------------------------------


def test_the_guest_hears_that_the_request_was_received_with_the_manage_link() -> None:
    email = guest_email(requested(), restaurant(), "https://x.test/manage?token=t")
    assert email.subject == "Request received: your table at Chez Test, Wed 4 Mar 19:30"
    assert email.to == ("ada@example.com",) and email.reply_to == ("staff@chez-test.example",)
    assert "It is not confirmed yet" in email.text
    assert "To view or cancel your request: https://x.test/manage?token=t" in email.text
    url = "https://x.test/manage?token=t"
    assert f'To view or cancel your request: <a href="{url}">{url}</a>' in email.html
    assert email.calendar is None and email.attachments == ()


def test_guest_emails_speak_the_guests_language_else_the_restaurants() -> None:
    french = restaurant(locale="fr")
    assert guest_email(requested(), french, "-").subject == (
        f"Demande reçue{NBSP}: votre table chez Chez Test, mer. 4 mars 19:30"
    )
    chose_english = requested(booked(language="en"))
    assert guest_email(chose_english, french, "-").subject.startswith("Request received")
    chose_french = requested(booked(language="fr"))
    assert guest_email(chose_french, restaurant(), "-").subject.startswith("Demande reçue")


def test_a_language_this_version_does_not_write_falls_back_to_the_restaurants() -> None:
    event = requested()
    newer = event.model_copy(
        update={"reservation": event.reservation.model_copy(update={"language": "de"})}
    )
    assert guest_email(newer, restaurant(locale="fr"), "-").subject.startswith("Demande reçue")


def test_times_are_written_as_the_restaurants_country_writes_them() -> None:
    new_york = restaurant(timezone="America/New_York")
    starts = datetime(2026, 3, 4, 19, 30, tzinfo=new_york.zone)
    event = requested(booked(starts_at=starts, ends_at=starts + timedelta(minutes=90)))
    assert guest_email(event, new_york, "-").subject == (
        "Request received: your table at Chez Test, Wed 4 Mar 7:30\u202fPM"
    )


def test_the_confirmation_carries_a_calendar_invite() -> None:
    email = guest_email(moved(Status.ACCEPTED)[1], restaurant(), "https://x.test/manage")
    assert email.subject == "Confirmed: your table at Chez Test, Wed 4 Mar 19:30"
    assert "The invitation attached adds it to your calendar." in email.text
    invite = calendar_of(email)
    assert invite.uid.endswith("@reservations") and invite.sequence == 2
    assert invite.starts == datetime(2026, 3, 4, 18, 30, tzinfo=UTC)
    assert invite.ends == datetime(2026, 3, 4, 20, 0, tzinfo=UTC)
    assert invite.summary == "Chez Test: table for 4 guests"
    assert invite.location == "Chez Test, 12 rue des Martyrs, 75009 Paris"
    assert "https://x.test/manage" in invite.description
    assert invite.organizer == "mailto:staff@chez-test.example"  # the reply address
    assert invite.attendee == "mailto:ada@example.com"


def test_a_french_invite_is_in_french_and_organized_by_the_contact_address() -> None:
    place = restaurant(locale="fr", contact_email="bonjour@chez-test.example")
    email = guest_email(moved(Status.ACCEPTED)[1], place, "https://x.test/manage")
    invite = calendar_of(email)
    assert invite.summary == f"Chez Test{NBSP}: table pour 4 personnes"
    assert invite.organizer == "mailto:bonjour@chez-test.example"
    assert email.reply_to == ("bonjour@chez-test.example",)


def test_cancelling_a_confirmed_table_cancels_the_invite() -> None:
    accepted, confirmed = moved(Status.ACCEPTED)
    _, cancelled = moved(Status.CANCELLED, accepted, cancelled_by="guest")
    request = calendar_of(guest_email(confirmed, restaurant(), "-"))
    email = guest_email(cancelled, restaurant(), "-")
    cancel = calendar_of(email)
    assert email.calendar is not None and email.calendar.method == "CANCEL"
    assert cancel.uid == request.uid
    assert cancel.sequence > request.sequence
    assert (cancel.method, cancel.status) == ("CANCEL", "CANCELLED")
    assert "as you asked" in email.text


def test_a_request_cancelled_before_any_answer_has_no_invite_to_cancel() -> None:
    _, cancelled = moved(Status.CANCELLED, cancelled_by="guest")
    email = guest_email(cancelled, restaurant(), "-")
    assert email.calendar is None and email.attachments == ()


def test_a_restaurants_cancellation_says_so() -> None:
    accepted, _ = moved(Status.ACCEPTED)
    _, cancelled = moved(Status.CANCELLED, accepted, cancelled_by="staff")
    email = guest_email(cancelled, restaurant(), "-")
    assert "Chez Test has cancelled your reservation" in email.text


def test_the_decline_gives_the_reason() -> None:
    _, declined = moved(Status.DECLINED, decline_reason="Private event")
    email = guest_email(declined, restaurant(), "-")
    assert email.subject == "Your request at Chez Test for Wed 4 Mar 19:30 was declined"
    assert "Reason: Private event" in email.text


# -- nothing raw in HTML, nothing broken in headers -------------------------------------------

SCRIPT = "<script>alert(1)</script>"


def test_no_guest_or_restaurant_value_reaches_the_html_unescaped() -> None:
    place = restaurant(name=f"Bistro {SCRIPT}", address=f"1 rue {SCRIPT}")
    stored_guest = booked(notes=f"Allergy {SCRIPT}").guest
    assert stored_guest is not None
    guest = stored_guest.model_copy(update={"name": f"Eve {SCRIPT}"})
    reservation = booked(notes=f"Allergy {SCRIPT}", guest=guest)
    accepted, confirmed = moved(Status.ACCEPTED, reservation)
    _, declined = moved(Status.DECLINED, reservation, decline_reason=SCRIPT)
    emails = [
        staff_request(place, requested(reservation)),
        guest_email(requested(reservation), place, f"https://x.test/m?{SCRIPT}"),
        guest_email(confirmed, place, "https://x.test/m"),
        guest_email(declined, place, "https://x.test/m"),
    ]
    for email in emails:
        assert "<script>" not in email.html, email.subject
        assert "&lt;script&gt;" in email.html
        assert SCRIPT in email.text  # plain text shows what was typed


def test_headers_stay_on_one_line() -> None:
    # A name is refused with control characters now; one stored before must still not break out.
    place = restaurant().model_copy(update={"name": "Chez\tTest\r\nBcc: x@evil.example"})
    email = staff_request(place)
    assert email.from_name == "Chez Test Bcc: x@evil.example"
    assert "\n" not in email.subject and "\t" not in email.subject


# -- the notifiers ----------------------------------------------------------------------------


class KeptMail:
    def __init__(self) -> None:
        self.sent: list[Email] = []

    def send(self, email: Email) -> str:
        self.sent.append(email)
        return f"m-{len(self.sent)}"


@pytest.fixture
def restaurants() -> InMemoryRestaurants:
    stored = InMemoryRestaurants()
    stored.add_restaurant(
        restaurant(staff_emails=["chef@chez-test.example", "desk@chez-test.example"])
    )
    return stored


def staff_notifier(
    restaurants: InMemoryRestaurants, mail: KeptMail
) -> tuple[StaffNotifier, StaffLinkSigner]:
    signer = StaffLinkSigner("k" * 32, Clock())
    return StaffNotifier(restaurants, StaffLinks(signer, "https://x.test"), mail), signer


def test_staff_are_emailed_a_request_with_a_day_view_link_that_signs_them_in(
    restaurants: InMemoryRestaurants,
) -> None:
    mail = KeptMail()
    notifier, signer = staff_notifier(restaurants, mail)
    done = notifier.notify(requested())
    [email] = mail.sent
    assert done == {"message_id": "m-1", "to": ", ".join(email.to), "subject": email.subject}
    assert email.to == ("chef@chez-test.example", "desk@chez-test.example")
    found = re.search(r"^Open the day's bookings: (\S+)$", email.text, flags=re.MULTILINE)
    assert found
    query = {k: v[0] for k, v in parse_qs(urlsplit(found.group(1)).query).items()}
    assert query["day"] == "2026-03-04"  # the reservation's local date
    assert query["staff"] == recipients_digest(email.to)  # exactly who it was sent to
    until = signer.verify_sign_in(
        "chez-test", query["staff"], query["day"], query["expires"], query["signature"]
    )
    assert until == int((NOW + DAY_VIEW_LINK_LIFETIME).timestamp())
    assert DAY_VIEW_LINK_LIFETIME == timedelta(days=3)


def test_staff_are_emailed_when_a_guest_cancels_and_not_when_they_cancel(
    restaurants: InMemoryRestaurants,
) -> None:
    mail = KeptMail()
    notifier, _ = staff_notifier(restaurants, mail)
    assert notifier.notify(moved(Status.CANCELLED, cancelled_by="staff")[1]) == {}
    assert mail.sent == []
    notifier.notify(moved(Status.CANCELLED, cancelled_by="guest")[1])
    [email] = mail.sent
    assert email.subject.startswith("Cancelled by the guest: Ada Lovelace")
    with pytest.raises(ValueError, match="ReservationAccepted"):
        notifier.notify(moved(Status.ACCEPTED)[1])


def test_the_guest_notifier_links_the_reservations_own_page(
    restaurants: InMemoryRestaurants,
) -> None:
    mail = KeptMail()
    tokens = ManageTokens("k" * 32)
    notifier = GuestNotifier(restaurants, tokens, "https://x.test/", mail)
    event = requested()
    notifier.notify(event)
    [email] = mail.sent
    token = tokens.for_reservation("chez-test", event.reservation.id)
    manage = f"https://x.test/restaurants/chez-test/reservations/{event.reservation.id}/manage"
    assert f"{manage}?token={token}" in email.text
