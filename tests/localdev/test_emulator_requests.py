"""The emulator's count of the requests it answered, by operation, as the benchmarks read it
(`GET /_localdev/requests`): what they divide CPU by."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator

import pytest

from localdev.aws_server import REQUESTS_PATH
from localdev.emulator import Emulator, EndpointSession, free_port


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    running = Emulator(port=free_port())
    running.start()
    try:
        yield running
    finally:
        running.stop()


def counts(emulator: Emulator) -> dict[str, int]:
    with urllib.request.urlopen(emulator.endpoint + REQUESTS_PATH, timeout=5) as response:
        assert response.headers["Content-Type"] == "application/json"
        answered: dict[str, int] = json.load(response)
    return answered


def test_each_request_is_counted_under_its_operation(emulator: Emulator) -> None:
    session = EndpointSession(emulator.endpoint)
    before = counts(emulator)

    dynamodb = session.client("dynamodb")  # JSON protocol: X-Amz-Target
    for _ in range(3):
        dynamodb.list_tables()
    ses = session.client("ses")  # query protocol: Action in the form
    ses.verify_email_identity(EmailAddress="sender@example.com")
    ses.list_identities()

    after = counts(emulator)
    changed = {op: n - before.get(op, 0) for op, n in after.items() if n != before.get(op, 0)}
    assert changed == {"ListTables": 3, "VerifyEmailIdentity": 1, "ListIdentities": 1}


def test_reading_the_counts_is_not_a_request_and_reaches_no_service(emulator: Emulator) -> None:
    first = counts(emulator)
    assert counts(emulator) == first
