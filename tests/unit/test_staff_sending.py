"""Staff emails keep to their share of the account's SES rate: the queue mapping's concurrency
and batch, and each invocation's pace, from one StaffSending."""

from __future__ import annotations

import pytest

from chalicelib.adapters.mailer import PacedMailer
from chalicelib.services.emails import Email
from chalicelib.wiring.event_sources import (
    FUNCTION_TIMEOUT_SECONDS,
    STAFF_NOTIFICATIONS,
    STAFF_SHARE_OF_SEND_RATE,
    StaffSending,
)


@pytest.mark.parametrize(
    ("account_rate", "concurrency", "seconds_between", "batch"),
    [
        (1.0, 2, 4.0, 3),  # the SES sandbox: Lambda's lowest concurrency, paced to 0.5/s
        (14.0, 2, 2 / 7, 10),
        (100.0, 10, 0.2, 10),
        (100_000.0, 1000, 0.02, 10),  # Lambda's highest concurrency
    ],
)
def test_staff_emails_never_exceed_their_share_of_the_rate(
    account_rate: float, concurrency: int, seconds_between: float, batch: int
) -> None:
    sending = StaffSending(account_rate)
    assert sending.maximum_concurrency == concurrency
    assert sending.seconds_between_emails == pytest.approx(seconds_between)
    assert sending.batch_size == batch
    fastest = sending.maximum_concurrency / sending.seconds_between_emails
    assert fastest == pytest.approx(account_rate * STAFF_SHARE_OF_SEND_RATE)
    # A whole batch at that pace fits in half the function's timeout.
    timeout = FUNCTION_TIMEOUT_SECONDS[STAFF_NOTIFICATIONS.handler]
    assert sending.batch_size * sending.seconds_between_emails <= timeout / 2


def test_mapping_settings_take_the_sizing() -> None:
    settings = STAFF_NOTIFICATIONS.lambda_settings(StaffSending(1.0))
    assert settings["ScalingConfig"] == {"MaximumConcurrency": 2}
    assert settings["BatchSize"] == 3
    assert STAFF_NOTIFICATIONS.lambda_settings()["BatchSize"] == STAFF_NOTIFICATIONS.batch_size


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class Outbox:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.sent_at: list[float] = []

    def send(self, email: Email) -> str:
        self.sent_at.append(self.clock.now)
        self.clock.now += 0.05  # SES's round trip
        return f"message-{len(self.sent_at)}"


def email() -> Email:
    return Email(("staff@bistro.example",), "subject", "text", "<p>html</p>", "", "")


def test_a_burst_is_sent_at_the_pace_and_a_quiet_spell_waits_for_nothing() -> None:
    clock = Clock()
    outbox = Outbox(clock)
    mailer = PacedMailer(outbox, 4.0, clock=clock, sleep=clock.sleep)
    assert [mailer.send(email()) for _ in range(3)] == ["message-1", "message-2", "message-3"]
    assert outbox.sent_at == pytest.approx([100.0, 104.0, 108.0])
    clock.now += 60  # the next invocation, a minute later
    mailer.send(email())
    assert outbox.sent_at[-1] == pytest.approx(168.05) and len(clock.slept) == 2
