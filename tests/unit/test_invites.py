"""The calendar invite, read back by an independent parser (the `icalendar` library) and
checked octet by octet where RFC 5545 is strict (line ends, folding)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from chalicelib.services.invites import Invite, Person, fold, parameter, text
from tests.ics import read_invite

PARIS = ZoneInfo("Europe/Paris")
STARTS = datetime(2026, 6, 3, 19, 30, tzinfo=PARIS)
AWKWARD = 'Zoë "Zo" O\'Brien; Ça, va\\bien\nsur deux lignes'


def invite(**overrides: object) -> Invite:
    fields: dict[str, object] = {
        "method": "REQUEST",
        "uid": "01J0000000000000000000000A@reservations",
        "sequence": 2,
        "stamp": datetime(2026, 6, 1, 10, 0, 5, tzinfo=UTC),
        "starts": STARTS,
        "ends": STARTS + timedelta(minutes=90),
        "summary": "Chez Test: table for 2 guests",
        "location": "Chez Test, 12 rue des Martyrs, 75009 Paris",
        "description": "A table for 2 guests in the name of Ada.\nTo cancel: https://x.test/m",
        "organizer": Person("Chez Test", "bonjour@chez-test.example"),
        "attendee": Person("Ada Lovelace", "ada@example.com"),
        "url": "https://x.test/manage?token=abc",
    }
    fields.update(overrides)
    return Invite(**fields)  # type: ignore[arg-type]


def test_a_confirmation_is_a_request_with_its_times_in_utc() -> None:
    ics = invite().ics()
    assert "\r\nVERSION:2.0\r\n" in ics
    read = read_invite(ics)
    assert read.method == "REQUEST" and read.status == "CONFIRMED"
    assert read.uid == "01J0000000000000000000000A@reservations"
    assert read.sequence == 2
    assert read.starts == datetime(2026, 6, 3, 17, 30, tzinfo=UTC)
    assert read.ends == datetime(2026, 6, 3, 19, 0, tzinfo=UTC)
    assert read.stamp == datetime(2026, 6, 1, 10, 0, 5, tzinfo=UTC)
    assert read.location == "Chez Test, 12 rue des Martyrs, 75009 Paris"
    assert read.description.splitlines()[1] == "To cancel: https://x.test/m"
    assert (read.organizer, read.organizer_name) == (
        "mailto:bonjour@chez-test.example",
        "Chez Test",
    )
    assert (read.attendee, read.attendee_name) == ("mailto:ada@example.com", "Ada Lovelace")
    assert read.url == "https://x.test/manage?token=abc"


def test_the_cancellation_keeps_the_uid_and_outranks_the_request() -> None:
    request = read_invite(invite().ics())
    cancel = read_invite(invite(method="CANCEL", sequence=3).ics())
    assert (cancel.method, cancel.status) == ("CANCEL", "CANCELLED")
    assert cancel.uid == request.uid
    assert cancel.sequence > request.sequence
    assert cancel.url is None  # nothing left to manage


def test_names_and_text_with_separators_newlines_and_accents_round_trip() -> None:
    ics = invite(
        summary=AWKWARD,
        description=AWKWARD,
        location=AWKWARD,
        attendee=Person(AWKWARD, "zoe@example.com"),
        organizer=Person('Café; Ünïcode, "Chez" ^Moi^', "bonjour@chez-test.example"),
    ).ics()
    read = read_invite(ics)
    assert read.summary == read.description == read.location == AWKWARD
    assert read.attendee_name == AWKWARD
    assert read.organizer_name == 'Café; Ünïcode, "Chez" ^Moi^'
    assert "\\;" in ics and "\\," in ics and "\\n" in ics and "\\\\" in ics


def test_escaping_follows_rfc_5545_and_rfc_6868() -> None:
    assert text("a\\b;c,d\ne\r\nf") == "a\\\\b\\;c\\,d\\ne\\nf"
    assert parameter('Ann "Nan"\nSmith^') == "\"Ann ^'Nan^'^nSmith^^\""
    assert parameter("Bell\x07") == '"Bell"'  # control characters cannot be written


def test_lines_end_in_crlf_and_fold_at_75_octets_without_splitting_a_character() -> None:
    ics = invite(description="é" * 120 + " " + "x" * 200, summary="€" * 60).ics()
    assert ics.endswith("\r\n") and "\n" not in ics.replace("\r\n", "")
    lines = ics.split("\r\n")[:-1]
    assert all(len(line.encode()) <= 75 for line in lines)
    assert any(line.startswith(" ") for line in lines)  # something was folded
    for line in lines:
        line.encode().decode()  # each physical line is whole UTF-8: no character cut
    assert read_invite(ics).description == "é" * 120 + " " + "x" * 200


@pytest.mark.parametrize("size", [0, 1, 74, 75, 76, 150, 151])
def test_folding_keeps_every_octet(size: int) -> None:
    line = "DESCRIPTION:" + "a" * size
    folded = fold(line)
    assert folded.replace("\r\n ", "") == line
    assert all(len(piece.encode()) <= 75 for piece in folded.split("\r\n"))


def test_a_time_without_its_offset_is_refused() -> None:
    with pytest.raises(ValueError, match="offset"):
        invite(starts=datetime(2026, 6, 3, 19, 30)).ics()
