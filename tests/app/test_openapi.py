"""The published contract: built from the app's route table and the pydantic models, served at
GET /openapi.json, committed as docs/openapi.json (regenerate: `make openapi`)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

import pytest
from openapi_spec_validator import validate

from chalicelib.web.openapi import HTML, UndocumentedRoute, document
from infra import ROOT
from tests.app.conftest import Api
from tests.app.openapi_file import COMMITTED, generated, text

REGENERATE = "docs/openapi.json is stale: run `make openapi` and commit it"


def test_every_route_is_in_the_document() -> None:
    from app import app

    doc = document(app.routes)
    served = {(m.lower(), p) for p, methods in app.routes.items() for m in methods}
    assert {(m, p) for p, ops in doc["paths"].items() for m in ops} == served


def test_a_route_without_an_entry_fails_the_build() -> None:
    from app import app

    routes: dict[str, Any] = {**app.routes, "/restaurants/{restaurant_id}/tables": {}}
    routes["/restaurants/{restaurant_id}/tables"]["GET"] = app.routes["/openapi.json"]["GET"]
    with pytest.raises(UndocumentedRoute, match="tables"):
        document(routes)


def test_the_committed_document_is_the_generated_one() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == text(generated()), REGENERATE


def test_the_app_serves_the_document(api: Api) -> None:
    status, body, headers = api.call("GET", "/openapi.json")
    assert status == 200 and body == json.loads(COMMITTED.read_text(encoding="utf-8"))


def test_it_is_valid_openapi_3_1() -> None:
    doc = generated()
    assert doc["openapi"].startswith("3.1")
    validate(doc)


def test_every_documented_error_status_has_the_error_shape() -> None:
    """docs/api.md's error table, status by status, is in the document as the JSON error."""
    table = (ROOT / "docs" / "api.md").read_text(encoding="utf-8").split("**Errors**")[1]
    statuses = {
        int(n) for row in re.findall(r"^\| ([\d /]+) \|", table, re.M) for n in row.split("/")
    }
    assert len(statuses) >= 9
    doc = generated()
    for status in statuses:
        response = doc["components"]["responses"][f"Error{status}"]
        assert response["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }
    error = doc["components"]["schemas"]["ErrorBody"]
    assert set(error["required"]) == {"code", "message", "field"}


def test_every_operation_documents_its_errors_and_auth() -> None:
    doc = generated()
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            if operation["security"]:
                assert {"401", "403"} <= codes, (method, path)
            if "{restaurant_id}" in path:
                assert "404" in codes, (method, path)
            if "requestBody" in operation:
                assert {"400", "413", "415", "422"} <= codes, (method, path)
    schemes = doc["components"]["securitySchemes"]
    assert {"adminToken", "staffToken", "manageToken", "staffSession"} <= set(schemes)


def test_pages_are_in_the_document_as_html() -> None:
    """The pages people open from an email are part of the contract too: they answer HTML
    (their errors as pages), except a 415 which Chalice answers before the page."""
    doc = generated()
    pages = {
        (method, path): operation
        for path, operations in doc["paths"].items()
        for method, operation in operations.items()
        if operation["tags"] == ["pages"] and path != "/static/{asset}"
    }
    assert len(pages) == 12
    for operation in pages.values():
        for status, response in operation["responses"].items():
            if status not in ("303", "415"):
                assert list(response["content"]) == [HTML], status


def test_the_generator_is_not_imported_by_a_cold_start() -> None:
    probe = "import tests.conftest, app, sys; print('chalicelib.web.openapi' in sys.modules)"
    found = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert found.stdout.strip() == "False"
