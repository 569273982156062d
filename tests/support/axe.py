"""axe-core's accessibility checks, run inside a Playwright page.

axe-core comes from npm (package.json at the repository's root; `make install` runs
`npm ci` when npm is there). The pages' CSP allows no inline script, so the library is
evaluated through the DevTools protocol (`page.evaluate`), which no CSP governs, and the
page itself is left as it is.

    assert_accessible(page)   # fails on any serious or critical violation
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("serious", "critical")


def axe_source() -> str:
    """axe.min.js; the test is skipped when npm has not installed it."""
    if not AXE.exists():
        pytest.skip(f"{AXE} is missing: run `make install` with npm on the PATH (npm ci)")
    return AXE.read_text(encoding="utf-8")


def violations(page: Any) -> list[dict[str, Any]]:
    """axe's violations of WCAG 2.1 A and AA on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())
    result = page.evaluate(
        "tags => window.axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS
    )
    return list(result["violations"])


def describe(found: list[dict[str, Any]]) -> str:
    """One line a violation: its rule, impact, help and the first nodes' selectors."""
    lines = []
    for v in found:
        nodes = [" ".join(map(str, n.get("target", []))) for n in v.get("nodes", [])[:3]]
        lines.append(f"{v['id']} ({v.get('impact')}): {v.get('help')} at {'; '.join(nodes)}")
    return "\n".join(lines)


def assert_accessible(page: Any, where: str = "") -> None:
    """Fails with each serious or critical violation axe finds on the page."""
    blocking = [v for v in violations(page) if v.get("impact") in BLOCKING]
    assert not blocking, f"axe found on {where or page.url}:\n{describe(blocking)}"
