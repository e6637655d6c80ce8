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
    assert exports[0].read_text(encoding="utf-8-sig").splitlines()[0].startswith("Period,Audits (n),Good or better,% Good or better")
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


AXE_TAGS = "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']"


def _luminance(colour: str) -> float:
    """WCAG 2.2 relative luminance of ``rgb(r, g, b)``."""
    r, g, b = (int(v) / 255 for v in colour[colour.index("(") + 1:colour.index(")")].split(",")[:3])
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def test_explorer_accessibility_and_reflow(server):
    """Issue 18: axe-core finds nothing serious or critical; sliders have names and the period as value
    text; the focus ring contrasts ≥ 3:1; a live region reads results and "No audits match"; at 390 px
    no label is clipped and at 320 px nothing scrolls sideways; in compare mode charts A and B are the
    same size."""
    try:
        import axe_playwright_python
    except ImportError:
        pytest.fail("axe-playwright-python (which bundles axe-core) is not installed: pip install -e '.[test]'")
    from pathlib import Path

    srv = server["server"]
    with browser_page(viewport={"width": 1200, "height": 900}, bypass_csp=True) as page:
        page.goto(srv.url)
        page.locator(".qa-table caption").wait_for(timeout=120_000)
        page.wait_for_function("document.querySelector('.qa-periods [role=slider]')?.getAttribute('aria-valuetext')"
                               "?.includes(' Q')", timeout=30_000)
        handles = page.evaluate("[...document.querySelectorAll('.qa-periods [role=slider]')].map(h => "
                                "[h.getAttribute('aria-label'), h.getAttribute('aria-valuetext')])")
        caption = page.locator(".qa-table caption").inner_text()
        assert handles[0][0] == "Selection A periods, from" and handles[1][0] == "Selection A periods, to"
        assert f"{handles[0][1]} to {handles[1][1]}" in caption  # the value text is the period shown

        page.add_script_tag(path=str(Path(axe_playwright_python.__file__).parent / "axe.min.js"))
        result = page.evaluate("axe.run(document, {runOnly: {type: 'tag', values: " + AXE_TAGS + "}, "
                               "resultTypes: ['violations']})")
        bad = [(v["id"], v["impact"], v["nodes"][0]["target"]) for v in result["violations"]
               if v["impact"] in ("serious", "critical")]
        assert not bad, bad

        page.locator(".qa-service-area select").focus()
        ring, background = page.evaluate("(() => { const e = document.activeElement, s = getComputedStyle(e); "
                                         "return [s.outlineColor, getComputedStyle(document.body).backgroundColor]; })()")
        lighter, darker = sorted((_luminance(ring), _luminance(background)), reverse=True)
        assert (lighter + 0.05) / (darker + 0.05) >= 3, (ring, background)

        live = page.locator(".qa-live")
        assert live.get_attribute("aria-live") == "polite" and live.get_attribute("role") == "status"
        assert "Showing % Good or better by period" in live.inner_text()
        page.locator(".qa-service-area select").select_option(label="SEND")  # SEND has no care leavers
        page.wait_for_function("document.querySelector('.qa-live').textContent.includes('rows')", timeout=60_000)
        page.locator(".qa-cohort select").select_option(label="Care leaver")
        page.wait_for_function("document.querySelector('.qa-live').textContent.includes('No audits match')",
                               timeout=60_000)
        page.locator(".qa-cohort select").select_option(label="All cohorts")

        page.locator(".qa-compare input").check()
        page.locator(".qa-service-area-b select").select_option(label="SEND")
        page.wait_for_function("document.querySelector('.qa-table-b caption')?.textContent.includes('SEND')",
                               timeout=60_000)
        sizes = page.evaluate("[...document.querySelectorAll('.qa-chart img, .qa-chart-b img')].map(i => "
                              "[Math.round(i.getBoundingClientRect().width), Math.round(i.getBoundingClientRect().height)])")
        assert len(sizes) == 2 and sizes[0] == sizes[1] and sizes[0][0] > 300, sizes

        for width in (390, 320):
            page.set_viewport_size({"width": width, "height": 900})
            page.wait_for_timeout(300)
            scroll, wide = page.evaluate(
                "[document.documentElement.scrollWidth, [...document.querySelectorAll('body *')]"
                ".filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.table-wrap'))"
                ".slice(0, 3).map(e => e.tagName + '.' + e.className)]")
            assert scroll <= width and not wide, (width, scroll, wide)
            clipped = page.evaluate("[...document.querySelectorAll('.qa-explorer .widget-label')]"
                                    ".filter(l => l.offsetParent && l.scrollWidth > l.clientWidth + 1).map(l => l.textContent)")
            assert not clipped, (width, clipped)
        page.screenshot(path=str(ARTIFACTS / "explorer-320.png"), full_page=True)
