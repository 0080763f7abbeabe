"""No guest's email address, phone number or name, no staff address, and no credential
(manage token, staff token, admin token, link signature, session cookie, CSRF token, signing
key) appears in any log line or error answer, over the whole story: book (API and booking
page), receipts and staff emails, accept from the email's link, decline, cancel from the manage
page, sign in from a staff email and by asking for a link, SES refusing a staff email and a
guest's email once each (its message names the recipients), a stream record and a bus event
that cannot be read, plus the mistakes people make (wrong tokens, forged and expired links, bad
input).

Every log record of every logger is captured at DEBUG (the service's own, Powertools', Chalice's
and any library's; stricter than any stage: dev logs at INFO, prod at WARNING), with everything
it carries (message, extra keys, exception text), and so is everything written to stdout and
stderr (Powertools' JSON lines, the metrics' EMF lines). The emulator's own loggers (moto,
werkzeug) are not the service and are left out; botocore keeps the WARNING level the wiring
sets for it in every stage.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalicelib.wiring import bootstrap
from localdev.lambda_shapes import LocalLambdaContext
from tests.app.conftest import ADMIN, upcoming_wednesday
from tests.browser import Browser, Send, through_test_client
from tests.pipeline import RES, Flow, sent_emails

GUEST = {"name": "Zoltan Quixby", "email": "zq.private+7731@guest-mail.example"}
PHONE = "+33699887766"
OTHER_GUEST = {"name": "Yvette Marchbank", "email": "ym.private@guest-mail.example"}
OTHER_PHONE = "+14155559876"
EMULATOR = ("moto", "werkzeug")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}

_log = logging.getLogger("tests.personal_data")


class Kept(logging.Handler):
    """Every record, as a line with everything it carries."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(EMULATOR):
            return
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        carried = {k: v for k, v in vars(record).items() if k not in ("msg", "args", "exc_info")}
        self.lines.append(text + " " + json.dumps(carried, default=str))


@pytest.fixture
def kept_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Kept]:
    kept = Kept()
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "DEBUG")  # for the loggers made from now on
    every = [logging.getLogger()] + [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    levels = {logger: logger.level for logger in every}
    for logger in every:
        if not logger.propagate or logger.name == "root":
            logger.addHandler(kept)  # the others' records reach the root's handlers
        if not logger.name.startswith(("botocore", *EMULATOR)):
            logger.setLevel(logging.DEBUG)
    yield kept
    for logger, level in levels.items():
        logger.removeHandler(kept)
        logger.setLevel(level)


class Answers:
    """Every answer the app gave (status, headers, body), through the API and the browser."""

    def __init__(self, flow: Flow) -> None:
        self.seen: list[tuple[int, str]] = []
        call = flow.api.call

        def recorded(*args: Any, **kwargs: Any) -> tuple[int, Any, dict[str, str]]:
            status, body, headers = call(*args, **kwargs)
            self.seen.append((status, json.dumps(body) + json.dumps(headers)))
            return status, body, headers

        flow.api.call = recorded  # type: ignore[method-assign]
        self._send = through_test_client(flow.api.client)

    def browser(self) -> Browser:
        def send(method: str, url: str, headers: dict[str, str], body: bytes) -> Any:
            status, answer_headers, text = self._send(method, url, headers, body)
            self.seen.append((status, text + json.dumps(answer_headers)))
            return status, answer_headers, text

        sending: Send = send
        return Browser(sending)

    def errors(self) -> list[str]:
        return [text for status, text in self.seen if status >= 400]


class SesRejects:
    """SES refuses the first email about `reservation_id`, naming its recipients as SES's
    own message does ("…failed the check in region …: ada@…")."""

    def __init__(self, reservation_id: str) -> None:
        self.reservation_id = reservation_id
        self.rejected = 0
        ses = bootstrap.wiring().client("ses")
        ses.meta.events.register("before-parameter-build.ses.SendRawEmail", self.reject)

    def reject(self, params: dict[str, Any], **_: Any) -> None:
        # Raised before the request exists: in-process moto would otherwise still send it.
        if self.rejected or self.reservation_id not in params["RawMessage"]["Data"].decode():
            return
        self.rejected += 1
        message = "Email address is not verified. The following identities failed the check in "
        message += "region EU-WEST-1: " + ", ".join(params["Destinations"])
        error = {"Error": {"Code": "MessageRejected", "Message": message}}
        raise ClientError(error, "SendRawEmail")  # type: ignore[arg-type]


def retried_like_eventbridge(flow: Flow, reported: list[str]) -> None:
    """An on_cw_event handler that raises is invoked again (EventBridge retries); what the
    failed invocation raised is what Lambda's runtime writes to the log: kept in `reported`."""
    run_bus = flow.pipeline.run_bus

    def run(event: dict[str, Any]) -> list[Any]:
        try:
            return run_bus(event)
        except Exception as error:
            reported.append("".join(traceback.format_exception(error)))
            return run_bus(event)

    flow.pipeline.run_bus = run  # type: ignore[method-assign]


def link(text: str, label: str) -> str:
    found = re.search(rf"^{label}:\s+(\S+)$", text, flags=re.MULTILINE)
    assert found, text
    return found.group(1)


def the_whole_story(flow: Flow, answers: Answers, reported: list[str]) -> None:
    browser = answers.browser()
    guest = {**GUEST, "phone": PHONE}
    accepted = flow.book(guest=guest, notes="Allergic to nuts")
    declined = flow.book(hhmm="20:00", guest=guest)
    # The staff email about it is refused once (a failed SQS record: Powertools logs why)...
    staff_rejection = SesRejects(declined["id"])
    form_page = browser.open(
        f"https://reservations.test/restaurants/bistro-a/book?date={upcoming_wednesday()}"
        "&party_size=2"
    )
    booked_on_page = browser.submit(
        form_page, "Send booking request", time="20:30", **OTHER_GUEST, phone=OTHER_PHONE
    )
    assert booked_on_page.status == 200, booked_on_page.text
    # A reservation whose stream record cannot be read (a poison record): set aside, logged.
    unreadable = flow.book(hhmm="21:00", guest=guest)
    records = flow.pipeline.stream_records()
    for record in records:
        image = record["dynamodb"].get("NewImage", {})
        if image.get("id", {}).get("S") == unreadable["id"]:
            del image["guest"]["M"]["email"]
    assert flow.pipeline.run_stream(records) == {"batchItemFailures": []}
    assert len(flow.pipeline.failure_queue_bodies()) == 1
    flow.pipeline.drain()

    request = next(e for e in sent_emails() if e.headers["X-Reservation-Id"] == accepted["id"]
                   and e.subject.startswith("Booking request"))  # fmt: skip
    accept = link(request.text, "Accept")
    page = browser.open(accept)
    browser.submit(page, "Accept reservation")
    assert staff_rejection.rejected == 1
    # ...and so is the guest's refusal (the handler raises; EventBridge invokes it again).
    guest_rejection = SesRejects(declined["id"])
    retried_like_eventbridge(flow, reported)
    flow.api.call("POST", f"{RES}/{declined['id']}/decline", {"reason": "Full"}, flow.staff)
    flow.pipeline.drain()
    assert guest_rejection.rejected == 1 and len(reported) == 1
    # An event this version cannot read (a guest without an address): every handler refuses it.
    broken = copy.deepcopy(flow.pipeline.delivered[-1])
    del broken["detail"]["reservation"]["guest"]["email"]
    broken["detail"]["event_id"] = "e-unreadable"  # not one the consumers have seen
    for handler in ("notify_guest", "update_daily_summary"):
        try:
            getattr(flow.pipeline.app, handler)(broken, LocalLambdaContext(handler))
        except Exception as error:  # what Lambda's runtime would report
            reported.append("".join(traceback.format_exception(error)))
    assert len(reported) == 3
    confirmation = next(e for e in sent_emails() if e.subject.startswith("Confirmed"))
    manage = re.search(r"(https://\S+/manage\?token=\S+)", confirmation.text)
    assert manage
    question = browser.submit(browser.open(manage.group(1)), "Cancel my reservation…")
    cancelled = browser.submit(question, "Yes, cancel my reservation")
    flow.pipeline.drain()
    # Over now: the guest removes their details from the page; a retention run finds nothing.
    removing = browser.submit(browser.open(cancelled.url), "Remove my details…")
    removed = browser.submit(removing, "Yes, remove my details")
    assert "Your details were removed" in removed.text, removed.text
    flow.pipeline.drain()
    flow.pipeline.run_retention()

    # Staff sign in from an email's link, and by asking for one.
    signed_in = browser.submit(
        browser.open(link(request.text, "Open the day's bookings")), "Open the bookings"
    )
    assert signed_in.status == 200, signed_in.text
    browser.submit(signed_in, "Sign out")
    asking = browser.open("https://reservations.test/restaurants/bistro-a/staff/sign-in")
    browser.submit(asking, "Email me a sign-in link", email="chef@a.example")
    flow.pipeline.drain()

    mistakes(flow, browser, accepted, accept)


def mistakes(flow: Flow, browser: Browser, booked: dict[str, Any], accept: str) -> None:
    """What goes wrong in a day: every answer is an error, none may repeat a secret."""
    token = booked["manage_token"]
    flow.api.call("GET", f"{RES}/{booked['id']}?token={token}x")
    flow.api.call("GET", f"/restaurants/bistro-b/reservations/{booked['id']}?token={token}")
    flow.api.call("GET", f"{RES}/{booked['id']}", None, {"Authorization": "Bearer stf_wrong"})
    flow.api.call("GET", "/restaurants/bistro-b/summary?date=2026-01-01", None, flow.staff)
    flow.api.call("POST", "/restaurants/bistro-a/staff-tokens", {"label": "x"}, flow.staff)
    browser.open(accept.replace("action=accept", "action=decline"))
    browser.open(accept)  # answered already
    past = datetime.now(UTC) - timedelta(minutes=1)
    browser.open(bootstrap.wiring().staff_links.url("bistro-a", booked["id"], "accept", past))
    guest = {**GUEST, "phone": PHONE, "email": "zq.private+7731@"}  # a typo in the address
    flow.api.call("POST", RES, {"guest": guest, "party_size": 2, "starts_at": "2020-01-01T10:00"})
    late = {"guest": {**GUEST, "phone": PHONE}, "party_size": 2, "starts_at": "2020-01-01T19:30"}
    flow.api.call("POST", RES, late, {"Idempotency-Key": "k1"})
    flow.api.call("POST", f"{RES}/{booked['id']}/cancel?token={token}")  # cancelled already


def secrets_of(flow: Flow) -> dict[str, str]:
    """Every value that must never be logged, found where the story put it."""
    found = {
        "guest email": GUEST["email"],
        "guest phone": PHONE,
        "guest name": GUEST["name"],
        "booking page guest email": OTHER_GUEST["email"],
        "booking page guest phone": OTHER_PHONE,
        "booking page guest name": OTHER_GUEST["name"],
        "staff address": "chef@a.example",  # bistro-a's staff list (tests/integration/conftest)
        "other staff address": "desk@a.example",
        "staff token": flow.staff["Authorization"].removeprefix("Bearer "),
        "admin token": ADMIN["Authorization"].removeprefix("Bearer "),
        "signing key": bootstrap.wiring().secrets.signing_key,
    }
    for number, email in enumerate(sent_emails()):
        for name, value in re.findall(r"[?&](token|signature)=([\w-]{16,})", email.text):
            found[f"{name} in email {number}"] = value
    return found


def test_no_personal_data_or_credential_in_any_log_line_or_error(
    flow: Flow, kept_logs: Kept, capfd: pytest.CaptureFixture[str]
) -> None:
    answers, reported = Answers(flow), list[str]()
    the_whole_story(flow, answers, reported)
    written = capfd.readouterr()
    lines = kept_logs.lines + (written.out + written.err).splitlines() + reported
    secrets = secrets_of(flow)
    assert len([k for k in secrets if k.startswith("signature")]) >= 4
    assert len([k for k in secrets if k.startswith("token")]) >= 2
    for _, text in answers.seen:  # the session secrets and CSRF tokens the browser was handed
        for value in re.findall(r"staff_session=([\w-]{16,})", text):
            secrets[f"session {value[:4]}"] = value
        for value in re.findall(r'name="csrf_token" value="([\w-]{16,})"', text):
            secrets[f"csrf {value[:4]}"] = value
    assert any(k.startswith("session") for k in secrets)
    assert any(k.startswith("csrf") for k in secrets)
    said = [line.split(" {", 1)[0] for line in kept_logs.lines]
    assert said.count("request") >= 20 and "event published" in said  # INFO lines were kept
    errors = answers.errors()
    assert len(errors) >= 10

    leaks = [
        (what, line[:200])
        for line in lines + errors
        for what, value in secrets.items()
        if value in line
    ]
    _log.info(
        "scanned %d log records, %d stdout/stderr lines, %d failure reports and %d error "
        "answers for %d values: %d findings",
        len(kept_logs.lines), len((written.out + written.err).splitlines()), len(reported),
        len(errors), len(secrets), len(leaks),
    )  # fmt: skip
    assert leaks == []
