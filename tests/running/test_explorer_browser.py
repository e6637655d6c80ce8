"""The explorer served by Voilà (as `make explore` serves it) works in a real headless Chromium.

Voilà runs as a subprocess on a free 127.0.0.1 port, on the demo data, with its outputs in a
temporary folder; any request that leaves localhost is refused and counted as a failure.
"""

import time

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
    assert exports[0].read_text().splitlines()[0].startswith("period,n,good_or_better")
    import pandas as pd

    filters = pd.read_excel(exports[1], sheet_name="filters", engine="openpyxl").set_index("setting")["value"]
    assert "SEND" in filters["Selection A"] and "all cohorts" in filters["Selection A"]
    assert (ARTIFACTS / "explorer.png").stat().st_size > 10_000
    assert not external, f"the explorer made network requests: {external[:3]}"


def _kernels_after(srv, seconds: float, at_most: int) -> int:
    """Kernel processes of ``srv`` once they drop to ``at_most``, or after ``seconds`` (whichever first)."""
    deadline = time.monotonic() + seconds
    while len(srv.kernels()) > at_most and time.monotonic() < deadline:
        time.sleep(0.5)
    return len(srv.kernels())


def test_closed_pages_stop_their_kernels(tmp_path):
    """Issue 18: 5 pages opened and closed leave at most one kernel (the pre-started one) 10 s later.

    Voilà's tab-close beacon carries the ``_xsrf`` cookie, which the page now sets; before the fix the
    server refused it (403) and every closed tab kept a 275 MB kernel running. A server of its own, so
    no other test's page counts.
    """
    require_browser()
    from qa_lib.running.explore_app import start

    srv = start(demo_params_copy(tmp_path))
    refused = []
    try:
        srv.wait_until_ready(timeout=120)
        left = _five_pages(srv, refused)
    finally:
        srv.stop()
    assert not refused, f"the shutdown beacon was refused: {refused}"
    assert left <= 1, f"{left} kernels still running 10 s after 5 pages were closed"


def _five_pages(srv, refused: list) -> int:
    with browser_page(viewport={"width": 1200, "height": 900}) as first:
        context = first.context
        first.close()
        for _ in range(5):
            page = context.new_page()
            page.on("response", lambda r: refused.append(r.status) if "/voila/api/shutdown/" in r.url
                    and r.status >= 400 else None)
            page.goto(srv.url)
            page.locator(".qa-table caption").wait_for(timeout=120_000)
            page.close(run_before_unload=True)  # as closing the tab does: beforeunload runs
        return _kernels_after(srv, 10, at_most=1)


def test_abandoned_kernels_are_culled_and_the_pool_is_kept(tmp_path):
    """Second line: a page whose beacon never arrives loses its kernel to culling; the pre-started one stays."""
    require_browser()
    from qa_lib.running.explore_app import start

    srv = start(demo_params_copy(tmp_path), pool_size=1, cull_idle_timeout=3, cull_interval=1)
    try:
        srv.wait_until_ready(timeout=120)
        with browser_page(viewport={"width": 1200, "height": 900}) as page:
            page.route("**/voila/api/shutdown/**", lambda route: route.abort())  # a crashed tab sends nothing
            page.goto(srv.url)
            page.locator(".qa-table caption").wait_for(timeout=120_000)
            deadline = time.monotonic() + 60  # the pool refills: this page's kernel + the next page's
            while len(srv.kernels()) < 2 and time.monotonic() < deadline:
                time.sleep(0.5)
            time.sleep(4)  # past the idle timeout: a kernel with a page connected is never culled
            assert len(srv.kernels()) == 2
            page.close(run_before_unload=True)
        assert _kernels_after(srv, 30, at_most=1) == 1, "the abandoned kernel was not culled"
        time.sleep(4)  # past the idle timeout again: the pre-started kernel is never culled
        assert len(srv.kernels()) == 1
    finally:
        srv.stop()
