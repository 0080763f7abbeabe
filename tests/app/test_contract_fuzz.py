"""Schemathesis over the published contract, against the app in-process (chalice's local
gateway behind a small WSGI adapter, on moto): no 5xx, every answer conforms to the document
(status, content type, headers, body), every JSON error is `{"error": {...}}`.

Bounded for `make test` (FUZZ_EXAMPLES per operation, default 50); `make fuzz` runs many more."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import boto3
import hypothesis
import pytest
import schemathesis
from chalice.test import Client
from hypothesis import strategies as st
from moto import mock_aws
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

from chalicelib.wiring import bootstrap
from infra import ROOT
from localdev.aws_emulation import serialize_dynamodb_requests
from localdev.provision import provision
from tests.app.conftest import ADMIN, PROJECT, Api, create_restaurant, guest_request

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "50"))
RESTAURANT = "fuzz-bistro"
StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class ChaliceWsgi:
    """A WSGI application in front of chalice's local gateway (what `chalice local` serves)."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        FIGURES["requests"] += 1
        # As sent, still percent-encoded (PATH_INFO is decoded: an encoded "#" or "?" would
        # change the path).
        path = environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/")
        if "?" not in path and environ.get("QUERY_STRING"):
            path += "?" + environ["QUERY_STRING"]
        headers = {
            name[5:].replace("_", "-").lower(): value
            for name, value in environ.items()
            if name.startswith("HTTP_")
        }
        for name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(name):
                headers[name.replace("_", "-").lower()] = environ[name]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        response = self.client.http.request(
            environ["REQUEST_METHOD"], path, headers=headers, body=body
        )
        if response.status_code >= 500:
            FIGURES["server_errors"] += 1
        pairs: list[tuple[str, str]] = []
        if response.body and not any(name.lower() == "content-type" for name in response.headers):
            # Chalice leaves a view's dict answer without one; API Gateway's proxy integration
            # (and `chalice local`) send it as application/json.
            pairs.append(("Content-Type", "application/json"))
        for name, value in response.headers.items():
            values = value if isinstance(value, list) else [value]
            pairs.extend((name, str(v)) for v in values)
        start_response(f"{response.status_code} -", pairs)
        return [response.body]


class World:
    """What the fuzzer may aim at besides random values: a restaurant, its reservation, the
    reservation's manage token, a staff token."""

    def __init__(self, api: Api) -> None:
        self.staff = {"Authorization": "Bearer " + create_restaurant(api, RESTAURANT)}
        _, booking, _ = api.call("POST", f"/restaurants/{RESTAURANT}/reservations", guest_request())
        self.reservation_id = str(booking["id"])
        self.manage_token = str(booking["manage_token"])


STATE: dict[str, Any] = {}
# What a run did; written to $FUZZ_REPORT (JSON) when set (make fuzz prints it).
FIGURES: dict[str, float] = {
    "cases": 0,
    "requests": 0,
    "server_errors": 0,
    "examples_per_operation": EXAMPLES,
}


def served(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    """The app of the running module's fixture."""
    app: ChaliceWsgi = STATE["wsgi"]
    return app(environ, start_response)


@pytest.fixture(scope="module", autouse=True)
def world() -> Iterator[World]:
    serialize_dynamodb_requests()
    with mock_aws():
        provision(boto3.session.Session(), stage="test")
        bootstrap.reset()
        from app import app

        with Client(app, stage_name="test", project_dir=str(PROJECT)) as client:
            wsgi = ChaliceWsgi(client)
            STATE["world"] = World(Api(client))
            STATE["wsgi"] = wsgi
            started = time.perf_counter()
            yield STATE["world"]
            FIGURES["seconds"] = round(time.perf_counter() - started, 1)
        bootstrap.reset()
    if report := os.environ.get("FUZZ_REPORT"):
        Path(report).write_text(json.dumps(FIGURES, indent=2) + "\n", encoding="utf-8")


# The committed document (tests/app/test_openapi.py: it is the one the app serves).
schema = schemathesis.openapi.from_path(str(ROOT / "docs" / "openapi.json"))
schema.app = served

Aim = dict[str, bool]
AIMS = st.fixed_dictionaries(
    {
        "restaurant": st.booleans(),
        "reservation": st.booleans(),
        "manage_token": st.booleans(),
        "auth": st.sampled_from(["none", "admin", "staff", "generated"]),
    }
)


def aim(case: Any, choice: dict[str, Any]) -> dict[str, str]:
    """Point some cases at what exists, so the fuzzer gets past 404 and 401; the headers to
    send."""
    world: World = STATE["world"]
    params = case.path_parameters if case.path_parameters is not None else {}
    if "restaurant_id" in params and choice["restaurant"]:
        params["restaurant_id"] = RESTAURANT
    if "reservation_id" in params and choice["reservation"]:
        params["reservation_id"] = world.reservation_id
    if choice["manage_token"] and case.query is not None and "token" in case.query:
        case.query["token"] = world.manage_token
    return {"none": {}, "admin": ADMIN, "staff": world.staff, "generated": {}}[choice["auth"]]


@pytest.mark.slow
@schema.parametrize()
@schema.given(choice=AIMS)
@hypothesis.settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    derandomize=os.environ.get("FUZZ_EXAMPLES") is None,
    database=None,  # nothing written to the working copy
)
def test_the_api_keeps_its_contract(case: Any, choice: dict[str, Any]) -> None:
    FIGURES["cases"] += 1
    headers = aim(case, choice)
    # Schema-valid is not bookable: unknown ids are 404s and booking rules 422s, by design.
    excluded: list[Any] = [positive_data_acceptance]
    if choice["manage_token"] or headers:
        # Credentials are alternatives: with a real one in place, another one spoilt by
        # schemathesis is rightly ignored (access is tested in tests/unit/test_access.py).
        excluded.append(ignored_auth)
    case.call_and_validate(headers=headers or None, excluded_checks=excluded)
