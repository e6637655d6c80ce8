"""The demo quarterly report opens in a real headless browser with no network request and its charts draw."""

import pytest

from browser import browser_page

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_quarterly_report_renders_charts_offline(demo_run, tmp_path):
    page_file = demo_run["out"] / "quarterly.html"
    requests = []
    with browser_page(viewport={"width": 1200, "height": 900}) as page:
        page.on("request", lambda r: requests.append(r.url))
        page.goto(page_file.as_uri())
        assert page.locator("h1").count() == 1
        images = page.locator("figure.chart img")
        assert images.count() >= 2
        for i in range(images.count()):
            width = images.nth(i).evaluate("img => img.complete ? img.naturalWidth : 0")
            assert width > 100, "a chart image did not decode"
        page.screenshot(path=str(tmp_path / "quarterly.png"), full_page=False)
    external = [u for u in requests if not u.startswith(("file:", "data:"))]
    assert not external, f"the report made network requests: {external[:3]}"
