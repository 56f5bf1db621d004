"""axe-core (installed from npm by the project's setup) on every main page: no serious or
critical accessibility violation."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from tests.browser.pages import main_pages

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"


def violations(page) -> list[str]:
    """The serious and critical violations axe finds on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """async () => (await axe.run(document, { resultTypes: ['violations'] })).violations
            .filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3)
              .map(n => n.target.join(' ')).join(', ')}`)"""
    )
    return list(found)


def test_every_main_page_has_no_serious_accessibility_violation(page, log_in, workspace):
    pages = main_pages(workspace)
    log_in("owner")
    found = {}
    for name, url in pages.items():
        page.goto(url)
        page.wait_for_load_state("networkidle")
        problems = violations(page)
        if problems:
            found[name] = problems
    assert found == {}, "\n".join(f"{name}: {'; '.join(p)}" for name, p in found.items())
