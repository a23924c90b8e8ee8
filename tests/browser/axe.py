"""axe-core in the browser tests: the page is checked as it is, with its own Content-Security-Policy.

axe-core comes from npm (`package.json` at the top level; `make test` runs `npm ci`). Its source is
run with Playwright's `page.evaluate`, which goes through the DevTools protocol and not through the
page, so the page's `script-src 'self'` stays in force for everything the page itself runs (no
`bypass_csp`, no script tag). Only serious and critical violations fail a test; every violation
found is printed.

axe needs the page's script engine: in a context with JavaScript off, `evaluate` never returns. The
JS-off journeys are therefore checked on the `scriptless_page` fixture (tests/browser/conftest.py):
JavaScript on for the test's own evaluate, the portal's scripts refused, so the page is exactly the
one a browser without JavaScript gets.

WCAG 2.2's target size (24 × 24 CSS px, or enough space around a smaller target) is off by default
in axe-core and turned on here.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
AXE_SOURCE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
FAILING_IMPACTS = ("serious", "critical")

RUN = """async () => {
  const results = await window.axe.run(document, {
    rules: {"target-size": {enabled: true}},
    resultTypes: ["violations"],
  });
  return results.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target.map(String).join(" "), html: n.html, summary: n.failureSummary})),
  }));
}"""


@lru_cache(maxsize=1)
def axe_source() -> str:
    if not AXE_SOURCE.exists():
        pytest.fail(f"axe-core is not installed ({AXE_SOURCE} is missing): run `npm ci` (make test does)")
    return AXE_SOURCE.read_text(encoding="utf-8")


def violations(page) -> list[dict]:
    """Every axe violation on the page as it is now (any impact)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    return page.evaluate(RUN)


def describe(violations_found: list[dict]) -> str:
    lines = []
    for violation in violations_found:
        lines.append(f"- [{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})")
        for node in violation["nodes"][:10]:
            lines.append(f"    at {node['target']}: {node['html'][:160]}")
            for reason in (node["summary"] or "").splitlines():
                lines.append(f"      {reason.strip()}")
        if len(violation["nodes"]) > 10:
            lines.append(f"    … and {len(violation['nodes']) - 10} more")
    return "\n".join(lines)


def assert_no_serious_violations(page, label: str) -> list[dict]:
    """Run axe on the page; print what it found; fail on any serious or critical violation."""
    found = violations(page)
    if found:
        print(f"\naxe on {label} ({page.url}):\n{describe(found)}")
    serious = [violation for violation in found if violation["impact"] in FAILING_IMPACTS]
    assert not serious, f"axe: serious or critical violations on {label} ({page.url}):\n{describe(serious)}"
    return found


# What a finger has to hit: buttons, summaries, form controls, and links that are not words inside a
# sentence (WCAG 2.2's inline exception): links alone in a list item, a cell, a block of their own.
SMALL_TARGETS = """(minimum) => {
  const inSentence = (link) => getComputedStyle(link).display === 'inline'
    && link.parentElement.textContent.trim().length > link.textContent.trim().length;
  const targets = [...document.querySelectorAll(
    'button, summary, select, input:not([type=hidden]), a[href]')];
  return targets
    .filter(node => node.getClientRects().length > 0 && getComputedStyle(node).visibility !== 'hidden')
    .filter(node => !(node.tagName === 'A' && inSentence(node)))
    .map(node => ({node, box: node.getBoundingClientRect()}))
    .filter(({box}) => box.width < minimum || box.height < minimum)
    .map(({node, box}) => `${node.outerHTML.slice(0, 120)} is ${box.width.toFixed(1)} × ${box.height.toFixed(1)} px`);
}"""


def assert_tap_targets(page, label: str, minimum: int = 24) -> None:
    """Every target a finger has to hit is at least `minimum` × `minimum` CSS px (24: WCAG 2.2's
    minimum; 44 on a touch screen), at the page's current size."""
    small = page.evaluate(SMALL_TARGETS, minimum)
    assert not small, f"tap targets under {minimum} px on {label}:\n" + "\n".join(small)
