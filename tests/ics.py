"""Calendar invites read back by an independent parser (the `icalendar` library), as plain
values the tests can compare."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import icalendar


@dataclass(frozen=True)
class ReadInvite:
    method: str
    uid: str
    sequence: int
    starts: datetime
    ends: datetime
    stamp: datetime
    status: str
    summary: str
    location: str
    description: str
    organizer: str
    organizer_name: str
    attendee: str
    attendee_name: str
    url: str | None


def read_invite(data: str | bytes) -> ReadInvite:
    calendar = icalendar.Calendar.from_ical(data)
    [event] = calendar.walk("VEVENT")

    def text(name: str) -> str:
        return str(event[name])

    def when(name: str) -> datetime:
        value = event.decoded(name)
        assert isinstance(value, datetime)
        return value

    def address(name: str) -> tuple[str, str]:
        value = event[name]
        assert isinstance(value, icalendar.vCalAddress)
        return str(value), str(value.params["CN"])

    organizer, organizer_name = address("ORGANIZER")
    attendee, attendee_name = address("ATTENDEE")
    return ReadInvite(
        method=str(calendar["METHOD"]),
        uid=text("UID"),
        sequence=int(event.decoded("SEQUENCE")),
        starts=when("DTSTART"),
        ends=when("DTEND"),
        stamp=when("DTSTAMP"),
        status=text("STATUS"),
        summary=text("SUMMARY"),
        location=text("LOCATION"),
        description=text("DESCRIPTION"),
        organizer=organizer,
        organizer_name=organizer_name,
        attendee=attendee,
        attendee_name=attendee_name,
        url=text("URL") if "URL" in event else None,
    )
