"""Each package of chalicelib imports only what its `__init__` allows: the domain knows no
infrastructure, adapters never reach into the web layer, the web layer gets adapters only
through the wiring. Read from the source (AST), so a lazy import inside a function counts."""

from __future__ import annotations

import ast

import pytest

from infra import ROOT

PACKAGE = ROOT / "chalicelib"
INFRASTRUCTURE = ("boto3", "botocore", "chalice", "aws_lambda_powertools", "moto")

# package -> what it must never import (prefixes of module names)
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "domain": INFRASTRUCTURE
    + (
        "chalicelib.services",
        "chalicelib.adapters",
        "chalicelib.web",
        "chalicelib.wiring",
    ),
    "services": ("boto3", "botocore", "chalice", "chalicelib.adapters", "chalicelib.wiring"),
    "adapters": ("chalice", "chalicelib.web", "chalicelib.wiring"),
    "web": ("boto3", "botocore", "chalicelib.adapters"),
}


def imported_modules(source: str) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def violations(package: str, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in sorted((PACKAGE / package).rglob("*.py")):
        for module in sorted(imported_modules(path.read_text())):
            if any(module == f or module.startswith(f + ".") for f in forbidden):
                found.append(f"{path.relative_to(PACKAGE.parent)} imports {module}")
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_what_it_may(package: str) -> None:
    assert violations(package, FORBIDDEN[package]) == []


def test_the_check_sees_a_domain_module_importing_boto3() -> None:
    source = "from __future__ import annotations\n\ndef f() -> None:\n    import boto3\n"
    assert "boto3" in imported_modules(source)
    assert any(m.startswith(INFRASTRUCTURE) for m in imported_modules(source))
