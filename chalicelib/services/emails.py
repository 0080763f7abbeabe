"""What the notification emails say, in the restaurant's or the guest's language. Pure: every
value from a guest or a restaurant is escaped in HTML, and headers are kept to one line.

Staff emails are written in the restaurant's `locale`; a guest's in the language they chose
when booking, else the restaurant's. Dates and times are the restaurant's local ones, named
and formatted by CLDR (Babel) for the language and the restaurant's country. Babel is imported
on the first email a container writes, never by the API.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from html import escape
from typing import TYPE_CHECKING, Any

from chalicelib.domain.contact import LANGUAGES, Language
from chalicelib.domain.events import BusinessEvent, ReservationState, StaffSignInRequested
from chalicelib.domain.reservations import DECLINED_BY_DEADLINE, Status
from chalicelib.domain.restaurants import Restaurant
from chalicelib.services import invites
from chalicelib.services.email_wording import words

if TYPE_CHECKING:
    from babel.core import Locale


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # with its parameters, e.g. "text/calendar; method=REQUEST"
    data: bytes


@dataclass(frozen=True)
class Email:
    to: tuple[str, ...]
    subject: str
    text: str
    html: str
    reservation_id: str
    event_id: str
    correlation_id: str | None = None
    from_name: str | None = None  # the display name of the sender address
    reply_to: tuple[str, ...] = ()
    # An iCalendar object sent as a text/calendar alternative to the text and HTML (iMIP).
    calendar: invites.Invite | None = None
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class Link:
    label: str
    url: str
    # The address written out in the HTML too ("label: https://…"): a guest sees where a
    # link leads before following it. Staff's actions read as their label alone.
    shown: bool = False


# What an email body is made of: a paragraph, a paragraph of lines, or a row of links.
Block = str | tuple[str, ...] | Link | tuple[Link, ...]


@dataclass(frozen=True)
class _Moment:
    """A reservation's start, in words of one language."""

    short_date: str  # "Wed 3 Jun"
    long_date: str  # "Wednesday, 3 June 2026"
    time: str  # "19:30" (or "7:30 PM" where that is the custom)

    def when(self, w: dict[str, str]) -> str:
        return w["when"].format(date=self.long_date, time=self.time)


# -- to staff ---------------------------------------------------------------------------------


def staff_request_email(
    event: BusinessEvent,
    restaurant: Restaurant,
    accept_url: str,
    decline_url: str,
    day_view_url: str,
) -> Email:
    """A new request: who, when, how to reach the guest, and the Accept and Decline links."""
    state, language = event.reservation, restaurant.locale
    w, moment = words(language), _moment(state.starts_at, restaurant, language)
    party = _party(state.party_size, w)
    subject = w["request_subject"].format(
        guest=state.guest.name, party=party, date=moment.short_date, time=moment.time
    )
    blocks: list[Block] = [
        w["request_intro"].format(guest=state.guest.name, party=party, when=moment.when(w)),
        _guest_contact(state, w),
        (Link(w["accept"], accept_url), Link(w["decline"], decline_url)),
        w["answer_note"],
        Link(w["day_view"], day_view_url),
    ]
    title = w["request_title"].format(restaurant=restaurant.name)
    return _staff_email(event, restaurant, subject, title, blocks)


def staff_cancellation_email(
    event: BusinessEvent, restaurant: Restaurant, day_view_url: str
) -> Email:
    """A guest cancelled: the table is free again."""
    state, language = event.reservation, restaurant.locale
    w, moment = words(language), _moment(state.starts_at, restaurant, language)
    party = _party(state.party_size, w)
    subject = w["guest_cancelled_subject"].format(
        guest=state.guest.name, party=party, date=moment.short_date, time=moment.time
    )
    blocks: list[Block] = [
        w["guest_cancelled_intro"].format(guest=state.guest.name, party=party, when=moment.when(w)),
        _guest_contact(state, w),
        Link(w["day_view"], day_view_url),
    ]
    title = w["guest_cancelled_title"].format(restaurant=restaurant.name)
    return _staff_email(event, restaurant, subject, title, blocks)


def staff_expiry_email(
    event: BusinessEvent, restaurant: Restaurant, answer_by: str, day_view_url: str
) -> Email:
    """A request nobody answered by `answer_by` (its deadline, ISO 8601) was declined."""
    state, language = event.reservation, restaurant.locale
    w, moment = words(language), _moment(state.starts_at, restaurant, language)
    deadline = _moment(answer_by, restaurant, language)
    party = _party(state.party_size, w)
    subject = w["expired_subject"].format(
        guest=state.guest.name, party=party, date=moment.short_date, time=moment.time
    )
    intro = w["expired_intro"].format(
        guest=state.guest.name, party=party, when=moment.when(w), deadline=deadline.when(w)
    )
    blocks: list[Block] = [intro, _guest_contact(state, w), Link(w["day_view"], day_view_url)]
    title = w["expired_title"].format(restaurant=restaurant.name)
    return _staff_email(event, restaurant, subject, title, blocks)


def staff_sign_in_email(
    event: StaffSignInRequested, restaurant: Restaurant, sign_in_url: str, minutes: int
) -> Email:
    """A sign-in link asked for on the sign-in page, to the one staff address it was for."""
    w = words(restaurant.locale)
    blocks: list[Block] = [
        w["sign_in_intro"].format(restaurant=restaurant.name, minutes=minutes),
        Link(w["sign_in_link"], sign_in_url),
        w["sign_in_ignore"],
    ]
    return Email(
        to=(event.email,),
        subject=_one_line(w["sign_in_subject"].format(restaurant=restaurant.name)),
        text=_text(blocks, restaurant, w),
        html=_html(w["sign_in_title"].format(restaurant=restaurant.name), blocks, restaurant, w),
        reservation_id="",
        event_id=event.event_id,
        correlation_id=event.correlation_id,
        from_name=_one_line(restaurant.name),
    )


def _guest_contact(state: ReservationState, w: dict[str, str]) -> tuple[str, ...]:
    guest, colon = state.guest, w["colon"]
    phone = (f"{w['phone_label']}{colon}{guest.phone}",) if guest.phone else ()
    notes = state.notes or w["no_notes"]
    return (f"{w['email_label']}{colon}{guest.email}", *phone, f"{w['notes_label']}{colon}{notes}")


def _staff_email(
    event: BusinessEvent, restaurant: Restaurant, subject: str, title: str, blocks: list[Block]
) -> Email:
    """To every staff address; replies go to the guest."""
    state = event.reservation
    return Email(
        to=tuple(str(address) for address in restaurant.staff_emails),
        subject=_one_line(subject),
        text=_text(blocks, restaurant, words(restaurant.locale)),
        html=_html(title, blocks, restaurant, words(restaurant.locale)),
        reservation_id=state.id,
        event_id=event.event_id,
        correlation_id=event.correlation_id,
        from_name=_one_line(restaurant.name),
        reply_to=(state.guest.email,),
    )


# -- to guests --------------------------------------------------------------------------------


def guest_email(event: BusinessEvent, restaurant: Restaurant, manage_url: str) -> Email:
    """Request received (with the manage link), confirmed (with the manage link and a calendar
    invite), declined (with the reason) or cancelled (with the invite's cancellation when one
    was sent)."""
    state = event.reservation
    language = guest_language(state, restaurant)
    w, moment = words(language), _moment(state.starts_at, restaurant, language)
    party = _party(state.party_size, w)
    names = {"guest": state.guest.name, "restaurant": restaurant.name, "party": party}
    dated = {"restaurant": restaurant.name, "date": moment.short_date, "time": moment.time}
    invite: invites.Invite | None = None
    blocks: list[Block]
    if state.status is Status.PENDING:
        subject = w["received_subject"].format(**dated)
        blocks = [
            w["received_intro"].format(**names, when=moment.when(w)),
            w["received_pending"],
            Link(w["manage_request"], manage_url, shown=True),
        ]
    elif state.status is Status.ACCEPTED:
        subject = w["accepted_subject"].format(**dated)
        invite = _invite(event, restaurant, w, "REQUEST", manage_url)
        blocks = [
            w["accepted_intro"].format(**names, when=moment.when(w)),
            w["accepted_invite"],
            Link(w["manage_reservation"], manage_url, shown=True),
        ]
    elif state.status is Status.DECLINED:
        subject = w["declined_subject"].format(**dated)
        intro = w["declined_intro"].format(**names, when=moment.when(w))
        reason = (
            w["no_answer_reason"] if state.declined_by == DECLINED_BY_DEADLINE
            else state.decline_reason
        )  # fmt: skip
        if reason:
            intro += " " + w["declined_reason"].format(reason=reason)
        blocks = [intro, w["declined_again"]]
    else:
        subject = w["cancelled_subject"].format(**dated)
        by_guest = state.cancelled_by == "guest"
        said = w["cancelled_by_guest" if by_guest else "cancelled_by_restaurant"]
        blocks = [said.format(**names, when=moment.when(w))]
        if event.previous_status is Status.ACCEPTED:  # the guest's calendar has the table
            invite = _invite(event, restaurant, w, "CANCEL", None)
            blocks.append(w["cancelled_invite"])
    blocks.append(w["reply_note"].format(restaurant=restaurant.name))
    attachments: tuple[Attachment, ...] = ()
    if invite is not None:
        ics = invite.ics().encode()
        attachments = (Attachment(invites.FILENAME, invite.content_type, ics),)
    return Email(
        to=(state.guest.email,),
        subject=_one_line(subject),
        text=_text(blocks, restaurant, w),
        html=_html(subject, blocks, restaurant, w),
        reservation_id=state.id,
        event_id=event.event_id,
        correlation_id=event.correlation_id,
        from_name=_one_line(restaurant.name),
        reply_to=(restaurant.reply_address,),
        calendar=invite,
        attachments=attachments,
    )


def guest_language(state: ReservationState, restaurant: Restaurant) -> Language:
    """The language the guest chose, else the restaurant's (a language this version does not
    write, from a newer event, counts as none)."""
    chosen = state.language
    for language in LANGUAGES:
        if chosen == language:
            return language
    return restaurant.locale


def _invite(
    event: BusinessEvent,
    restaurant: Restaurant,
    w: dict[str, str],
    method: invites.Method,
    manage_url: str | None,
) -> invites.Invite:
    state = event.reservation
    starts = datetime.fromisoformat(state.starts_at)
    ends = (
        datetime.fromisoformat(state.ends_at)
        if state.ends_at
        else starts + timedelta(minutes=restaurant.dining_minutes)
    )
    party = _party(state.party_size, w)
    summary = w["invite_summary"].format(restaurant=restaurant.name, party=party)
    description = [w["invite_description"].format(party=party, guest=state.guest.name)]
    if manage_url:
        description.append(f"{w['manage_reservation']}{w['colon']}{manage_url}")
    description += [line for line in (restaurant.phone, restaurant.address) if line]
    if method == "CANCEL":
        summary = w["invite_cancelled"].format(summary=summary)
    # SEQUENCE follows the reservation's version, so the cancellation always outranks the
    # confirmation (events from before `version` was carried: 0, then 1).
    fallback = 0 if method == "REQUEST" else 1
    return invites.Invite(
        method=method,
        uid=reservation_uid(state.id),
        sequence=state.version if state.version is not None else fallback,
        stamp=datetime.fromisoformat(event.occurred_at),
        starts=starts,
        ends=ends,
        summary=summary,
        location=", ".join(part for part in (restaurant.name, restaurant.address) if part),
        description="\n".join(description),
        organizer=invites.Person(restaurant.name, restaurant.reply_address),
        attendee=invites.Person(state.guest.name, state.guest.email),
        url=manage_url,
    )


def local_day(state: ReservationState, restaurant: Restaurant) -> date:
    """The restaurant's local date of the reservation (the day view a staff email opens)."""
    return datetime.fromisoformat(state.starts_at).astimezone(restaurant.zone).date()


def reservation_uid(reservation_id: str) -> str:
    """The calendar UID of a reservation: the same for its confirmation and cancellation."""
    return f"{reservation_id}@reservations"


# -- words, dates and the two renderings ------------------------------------------------------


def _party(count: int, w: dict[str, str]) -> str:
    return (w["guests_one"] if count == 1 else w["guests_other"]).format(count=count)


def _moment(starts_at: str, restaurant: Restaurant, language: Language) -> _Moment:
    from babel.dates import format_date, format_datetime, format_time

    local = datetime.fromisoformat(starts_at).astimezone(restaurant.zone)
    locale = _locale(language, restaurant.timezone)
    return _Moment(
        short_date=format_datetime(local, words(language)["short_date_pattern"], locale=locale),
        long_date=format_date(local.date(), "full", locale=locale),
        time=format_time(local, "short", tzinfo=restaurant.zone, locale=locale),
    )


@lru_cache(maxsize=64)
def _locale(language: Language, timezone: str) -> Locale:
    """The language as written in the restaurant's country, when CLDR knows that pairing
    (English in France: 24-hour times, day before month), else the language alone."""
    from babel.core import Locale, get_global
    from babel.localedata import exists

    zone_territories: Mapping[str, Any] = get_global("zone_territories")
    territory = zone_territories.get(timezone)
    regional = f"{language}_{territory}"
    return Locale.parse(regional if territory and exists(regional) else language)


def _identity(restaurant: Restaurant) -> tuple[str, ...]:
    """Who the email is from: the restaurant's name, address and phone."""
    return tuple(part for part in (restaurant.name, restaurant.address, restaurant.phone) if part)


def _text(blocks: list[Block], restaurant: Restaurant, w: dict[str, str]) -> str:
    def line(link: Link) -> str:
        return f"{link.label}{w['colon']}{link.url}"

    paragraphs = []
    for block in blocks:
        if isinstance(block, Link):
            paragraphs.append(line(block))
        elif isinstance(block, str):
            paragraphs.append(block)
        else:
            paragraphs.append("\n".join(line(b) if isinstance(b, Link) else b for b in block))
    signature = "-- \n" + "\n".join(_identity(restaurant))
    return "\n\n".join([*paragraphs, signature]) + "\n"


def _html(title: str, blocks: list[Block], restaurant: Restaurant, w: dict[str, str]) -> str:
    def _anchor(link: Link) -> str:
        anchor = (
            f'<a href="{escape(link.url)}">{escape(link.url if link.shown else link.label)}</a>'
        )
        return f"{escape(link.label + w['colon'])}{anchor}" if link.shown else anchor

    body = []
    for block in blocks:
        if isinstance(block, Link):
            body.append(f"<p>{_anchor(block)}</p>")
        elif isinstance(block, str):
            body.append(f"<p>{_escape_lines(block)}</p>")
        else:  # a row of links, or lines
            items = [_anchor(b) if isinstance(b, Link) else _escape_lines(b) for b in block]
            joiner = " &nbsp; " if all(isinstance(b, Link) for b in block) else "<br>"
            body.append("<p>" + joiner.join(items) + "</p>")
    identity = "<br>".join(escape(part) for part in _identity(restaurant))
    return (
        '<!doctype html><html><head><meta charset="utf-8"></head>'
        '<body style="font-family:sans-serif;max-width:36em">'
        f"<h2>{escape(title)}</h2>{''.join(body)}"
        f'<p style="color:#555;border-top:1px solid #ddd;padding-top:.5em">{identity}</p>'
        "</body></html>"
    )


def _escape_lines(value: str) -> str:
    return "<br>".join(escape(line) for line in value.splitlines())


def _one_line(value: str) -> str:
    """A header value: control characters become spaces, runs of spaces one (a French
    non-breaking space stays)."""
    spaced = "".join(" " if unicodedata.category(c) == "Cc" else c for c in value)
    return re.sub(" {2,}", " ", spaced).strip(" ")
