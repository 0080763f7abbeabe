"""Calendar invites for guests (iCalendar, RFC 5545, sent as iMIP, RFC 6047): a confirmed table
is a `METHOD:REQUEST` event; its cancellation a `METHOD:CANCEL` of the same UID with a higher
SEQUENCE, so the guest's calendar updates the one entry.

Hand-written on purpose: the service writes one small kind of object, and a library would add
to the Lambda zip and the consumers' cold start. What it must get right, and what
tests/unit/test_invites.py checks by parsing it with the `icalendar` library: TEXT escaping
(backslash, semicolon, comma, newline), quoted parameter values (RFC 6868 for quotes and
newlines), lines folded at 75 octets without splitting a UTF-8 character, CRLF line ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

Method = Literal["REQUEST", "CANCEL"]
PRODUCT_ID = "-//Reservations//Table booking//EN"
FILENAME = "invite.ics"
_LINE_OCTETS = 75


@dataclass(frozen=True)
class Person:
    name: str
    email: str


@dataclass(frozen=True)
class Invite:
    """One reservation as a calendar event."""

    method: Method
    uid: str
    sequence: int
    stamp: datetime  # when this version of the invite was made (the event's time)
    starts: datetime
    ends: datetime
    summary: str
    location: str
    description: str
    organizer: Person
    attendee: Person
    url: str | None = None

    def ics(self) -> str:
        """The iCalendar object: CRLF line ends, folded lines."""
        status = "CONFIRMED" if self.method == "REQUEST" else "CANCELLED"
        lines = [
            "BEGIN:VCALENDAR",
            f"PRODID:{PRODUCT_ID}",
            "VERSION:2.0",
            "CALSCALE:GREGORIAN",
            f"METHOD:{self.method}",
            "BEGIN:VEVENT",
            f"UID:{text(self.uid)}",
            f"SEQUENCE:{self.sequence}",
            f"DTSTAMP:{utc(self.stamp)}",
            f"DTSTART:{utc(self.starts)}",
            f"DTEND:{utc(self.ends)}",
            f"SUMMARY:{text(self.summary)}",
            f"LOCATION:{text(self.location)}",
            f"DESCRIPTION:{text(self.description)}",
            f"ORGANIZER;CN={parameter(self.organizer.name)}:mailto:{self.organizer.email}",
            "ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;RSVP=FALSE;"
            f"CN={parameter(self.attendee.name)}:mailto:{self.attendee.email}",
            *([f"URL:{self.url}"] if self.url and self.method == "REQUEST" else []),
            f"STATUS:{status}",
            "TRANSP:OPAQUE",
            "END:VEVENT",
            "END:VCALENDAR",
        ]
        return "".join(fold(line) + "\r\n" for line in lines)

    @property
    def content_type(self) -> str:
        return f"text/calendar; method={self.method}"


def utc(moment: datetime) -> str:
    """A DATE-TIME in UTC ("20260603T173000Z"); `moment` must carry its offset."""
    if moment.tzinfo is None:
        raise ValueError("a calendar time needs its UTC offset")
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def text(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and newlines escaped."""
    escaped = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return escaped.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def parameter(value: str) -> str:
    """A parameter value, always quoted (a name may hold ':', ';' or ','); the characters a
    quoted value cannot hold are written as RFC 6868 says (^^, ^n, ^'), other controls
    dropped."""
    value = value.replace("^", "^^").replace('"', "^'")
    value = value.replace("\r\n", "^n").replace("\r", "^n").replace("\n", "^n")
    printable = "".join(c for c in value if c == "\t" or (ord(c) >= 0x20 and ord(c) != 0x7F))
    return f'"{printable}"'


def fold(line: str) -> str:
    """A content line folded to lines of at most 75 octets (RFC 5545 3.1), each continuation
    starting with a space, never inside a UTF-8 character."""
    pieces: list[str] = []
    current, size = "", 0
    for char in line:
        octets = len(char.encode())
        limit = _LINE_OCTETS if not pieces else _LINE_OCTETS - 1  # the continuation's space
        if size + octets > limit:
            pieces.append(current)
            current, size = "", 0
        current += char
        size += octets
    pieces.append(current)
    return "\r\n ".join(pieces)
