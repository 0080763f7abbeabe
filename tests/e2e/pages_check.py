"""What the browser tests check on every page a person sees: axe-core's accessibility rules
(no serious or critical violation), no sideways scrolling on a 390 px phone, and screenshots
at 1280 and 390 px under test-artifacts/screenshots/ (kept by CI, looked at by people)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from infra import ROOT

AXE = ROOT / "tests" / "e2e" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", ROOT / "test-artifacts" / "screenshots"))
WIDTHS = {"desktop": (1280, 800), "phone": (390, 844)}
BLOCKING = ("serious", "critical")


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now. The script is
    evaluated through the DevTools protocol: the page's CSP (no inline script) stays on."""
    assert AXE.exists(), f"{AXE} is missing: `make browser` installs axe-core (npm ci)"
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    result: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    return [v for v in result["violations"] if v.get("impact") in BLOCKING]


def check_page(page: Page, name: str) -> None:
    """axe at both widths, no horizontal overflow on the phone, and the two screenshots."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size
    try:
        for label, (width, height) in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": height})
            violations = axe_violations(page)
            assert not violations, f"{name} at {width}px: " + json.dumps(
                [
                    {
                        "id": v["id"],
                        "impact": v["impact"],
                        "nodes": [n["target"] for n in v["nodes"]][:5],
                    }
                    for v in violations
                ],
                indent=1,
            )
            overflow = page.evaluate(
                "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width}px"
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
    finally:
        if original is not None:
            page.set_viewport_size(original)
