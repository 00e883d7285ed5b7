"""What every page a browser journey visits must hold (issue 16), in one place.

`PageChecks.visit(page, name)` asserts that the page does not scroll sideways, takes a full-page
screenshot into var/screenshots/ (the run's artifacts, gitignored) and collects axe-core's serious
and critical findings; `assert_clean()` at the end of the journey fails on any finding and writes
them to var/screenshots/axe-<journey>.json. Journeys run at 1366 px and 390 px (`WIDTHS`).
"""

from __future__ import annotations

import json
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
WIDTHS = (1366, 390)
_AXE = Axe()


def axe_serious(page) -> list[dict]:
    """axe-core's serious and critical violations on the current page."""
    result = _AXE.run(page)
    return [
        {"rule": violation["id"], "impact": violation["impact"], "targets": [n["target"] for n in violation["nodes"]]}
        for violation in result.response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


class PageChecks:
    def __init__(self, journey: str):
        self.journey = journey
        self.findings: dict[str, list[dict]] = {}

    def visit(self, page, name: str) -> None:
        page.wait_for_load_state("networkidle")
        scroll_width, inner_width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert scroll_width <= inner_width, f"{name}: the page is {scroll_width} px wide in a {inner_width} px window"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{self.journey}-{name}-{inner_width}.png"), full_page=True)
        self.findings[f"{name}-{inner_width}"] = axe_serious(page)

    def assert_clean(self) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        counts = {name: len(found) for name, found in self.findings.items()}
        (SCREENSHOTS / f"axe-{self.journey}.json").write_text(
            json.dumps({"counts": counts, "findings": self.findings}, indent=1)
        )
        assert {name: found for name, found in self.findings.items() if found} == {}, "axe: serious/critical"
