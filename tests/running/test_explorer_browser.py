"""The explorer served by Voilà (as `make explore` serves it) works in a real headless Chromium.

Voilà runs as a subprocess on a free 127.0.0.1 port, on the demo data, with its outputs in a
temporary folder; any request that leaves localhost is refused and counted as a failure.
"""

import pytest

from browser import browser_page, require_browser
from conftest import ROOT, demo_params_copy

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ARTIFACTS = ROOT / "test-artifacts"
LOCAL = ("http://127.0.0.1:", "ws://127.0.0.1:", "data:", "blob:", "about:")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_browser()  # skip (or fail under QA_REQUIRE_BROWSER=1) before starting anything
    from qa_lib.running.explore_app import start

    folder = tmp_path_factory.mktemp("explore")
    params = demo_params_copy(folder)
    srv = start(params)
    try:
        srv.wait_until_ready(timeout=120)
        yield {"server": srv, "exports": folder / "outputs" / "exports"}
    finally:
        srv.stop()
    assert not srv.folder.exists(), "the temporary notebook folder was left behind"


def test_explorer_app_filters_updates_and_exports(server):
    srv = server["server"]
    external = []
    with browser_page(viewport={"width": 1400, "height": 1000}) as page:
        def guard(route):
            url = route.request.url
            if url.startswith(LOCAL):
                route.continue_()
            else:
                external.append(url)
                route.abort()
        page.route("**/*", guard)
        page.goto(srv.url)
        table = page.locator(".qa-table caption")
        table.wait_for(timeout=120_000)
        assert "all service areas" in table.inner_text()
        chart_before = page.locator(".qa-chart img").get_attribute("src")
        assert page.locator(".qa-chart img").evaluate("img => img.complete ? img.naturalWidth : 0") > 100

        # a filter change updates the table and the chart
        page.locator(".qa-service-area select").select_option(label="SEND")
        page.wait_for_function("document.querySelector('.qa-table caption').textContent.includes('SEND')",
                               timeout=60_000)
        assert page.locator(".qa-chart img").get_attribute("src") != chart_before

        # a filter that leaves nothing says so
        page.locator(".qa-cohort select").select_option(label="Care leaver")
        page.locator(".qa-message .explorer-empty").wait_for(timeout=60_000)
        assert "No audits match these filters" in page.locator(".qa-message").inner_text()
        assert page.locator(".qa-table table").count() == 0 and page.locator(".qa-chart img").count() == 0

        page.locator(".qa-cohort select").select_option(label="All cohorts")
        page.locator(".qa-table table").wait_for(timeout=60_000)
        page.locator("button.qa-export").click()
        page.wait_for_function("document.querySelector('.qa-export-status').textContent.includes('Exported')",
                               timeout=60_000)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "explorer.png"), full_page=True)

    exports = sorted(server["exports"].glob("explore-good-by-period-*"))
    assert [p.suffix for p in exports] == [".csv", ".xlsx"]
    assert exports[0].read_text(encoding="utf-8-sig").splitlines()[0].startswith("period,n,good_or_better")
    import pandas as pd

    filters = pd.read_excel(exports[1], sheet_name="filters", engine="openpyxl").set_index("setting")["value"]
    assert "SEND" in filters["Selection A"] and "all cohorts" in filters["Selection A"]
    assert (ARTIFACTS / "explorer.png").stat().st_size > 10_000
    assert not external, f"the explorer made network requests: {external[:3]}"
