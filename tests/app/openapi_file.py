"""Write docs/openapi.json from the app's routes and models: `make openapi`.

The test settings stand in for a stage's (importing app.py reads them); the document does not
depend on them."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import tests.conftest  # noqa: F401  (the settings app.py reads at import)
from infra import ROOT

COMMITTED = ROOT / "docs" / "openapi.json"


def generated() -> dict[str, Any]:
    from app import app
    from chalicelib.web.openapi import document

    return document(app.routes)


def text(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def main(target: Path = COMMITTED) -> int:
    target.write_text(text(generated()), encoding="utf-8")
    sys.stderr.write(f"wrote {target.relative_to(ROOT)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
