"""Bad input never gets a 5xx: hostile path ids, headers and query strings on every route."""

from __future__ import annotations

import re

import pytest

from tests.app.conftest import ADMIN, Api

HOSTILE_IDS = ["x" * 3000, "%00", "RESTAURANT%23demo", "a b", "ü" * 40, "..", "-"]


def concrete(path: str, value: str) -> str:
    return re.sub(r"\{[a-z_]+\}", value, path)


@pytest.mark.parametrize("value", HOSTILE_IDS)
def test_hostile_path_ids_get_4xx_on_every_route(
    api: Api, staff_a: dict[str, str], value: str
) -> None:
    from app import app

    for path, methods in app.routes.items():
        if path == "/openapi.json":
            continue  # public and without ids: a 200 whatever is sent
        for method in methods:
            for headers in ({}, ADMIN, staff_a, {"Authorization": "Bearer " + "y" * 5000}):
                status, body, _ = api.call(
                    method, concrete(path, value) + "?token=zz", "{}", headers
                )
                assert 400 <= status < 500, (method, path, headers, status, body)
                assert set(body) == {"error"} or "<h1>" in body


@pytest.mark.parametrize(
    "query",
    [
        "date=2026-02-30&party_size=2",
        "date=&party_size=",
        "party_size=-1&date=2026-01-01",
        "date=9999-12-31&party_size=99999999999999999999",
        "date=2026-01-01&party_size=2&x=1",
    ],
)
def test_hostile_availability_queries(api: Api, staff_a: dict[str, str], query: str) -> None:
    status, body, _ = api.call("GET", f"/restaurants/bistro-a/availability?{query}")
    assert status == 422 and body["error"]["field"], body
