"""The Chalice app through `chalice.test.Client`, on moto, with a restaurant and staff tokens."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest
from chalice.test import Client
from moto import mock_aws

from chalicelib.wiring import bootstrap
from localdev.aws_emulation import serialize_dynamodb_requests
from localdev.provision import provision
from tests.builders import restaurant_spec

ADMIN = {"Authorization": "Bearer admin-token-for-tests"}
# chalice.test.Client applies a stage's variables during each call; this test-only project
# holds a "test" stage so the real .chalice/config.json stages never leak into tests.
PROJECT = Path(__file__).parent / "project"


@dataclass
class Api:
    """A thin JSON wrapper over chalice's test client."""

    client: Client

    def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any, dict[str, str]]:
        raw = body if isinstance(body, str | bytes) or body is None else json.dumps(body)
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        response = getattr(self.client.http, method.lower())(
            path, headers=all_headers, body=raw or b""
        )
        headers = dict(response.headers)
        if not response.body:
            payload = None
        elif headers.get("Content-Type", "").startswith("text/html"):
            payload = response.body.decode()
        else:
            payload = json.loads(response.body)
        return response.status_code, payload, headers


@pytest.fixture
def api() -> Iterator[Api]:
    serialize_dynamodb_requests()
    with mock_aws():
        provision(boto3.session.Session(), stage="test")
        bootstrap.reset()
        from app import app

        with Client(app, stage_name="test", project_dir=str(PROJECT)) as client:
            yield Api(client)
        bootstrap.reset()


def create_restaurant(api: Api, restaurant_id: str) -> str:
    """Create a restaurant and return a staff token for it."""
    body = restaurant_spec(restaurant_id).model_dump(mode="json")
    status, _, _ = api.call("POST", "/restaurants", body, ADMIN)
    assert status == 201
    status, token, _ = api.call(
        "POST", f"/restaurants/{restaurant_id}/staff-tokens", {"label": "desk"}, ADMIN
    )
    assert status == 201
    return str(token["token"])


@pytest.fixture
def staff_a(api: Api) -> dict[str, str]:
    return {"Authorization": "Bearer " + create_restaurant(api, "bistro-a")}


@pytest.fixture
def staff_b(api: Api) -> dict[str, str]:
    return {"Authorization": "Bearer " + create_restaurant(api, "bistro-b")}


def upcoming_wednesday() -> date:
    """A Wednesday between 2 and 8 days from now (the test restaurants open on Wednesdays)."""
    day = datetime.now(ZoneInfo("Europe/Paris")).date() + timedelta(days=2)
    while day.weekday() != 2:
        day += timedelta(days=1)
    return day


def guest_request(hhmm: str = "19:30", party_size: int = 2, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "guest": {"name": "Grace Hopper", "email": "grace@example.com", "phone": "+14155550100"},
        "party_size": party_size,
        "starts_at": f"{upcoming_wednesday()}T{hhmm}",
        "notes": "Birthday <b>cake</b>",
    }
    body.update(overrides)
    return body
