"""Accessibility of every demo report (issue 8): structure, alt text, table headers, colour, and axe-core.

axe-core (Deque, MPL-2.0) comes bundled as axe.min.js in the axe-playwright-python package (a
test dependency). The report's CSP blocks scripts, so the page is opened in a context created
with ``bypass_csp=True`` and axe is injected by Playwright; any violation of impact "serious" or
"critical" fails the test.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from qa_lib.present import charts

pytestmark = pytest.mark.slow


def _reports(request) -> list[Path]:
    pages = []
    for name in ("demo_run", "demo_published_run"):
        pages += sorted(request.getfixturevalue(name)["out"].glob("*.html"))
    return pages


AXE_TAGS = "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']"


def _index_pages(request) -> list[Path]:
    return [request.getfixturevalue(name)["out"].parent / "index.html" for name in ("demo_run", "demo_published_run")]


class _Outline(HTMLParser):
    def __init__(self):
        super().__init__()
        self.headings, self.th, self.imgs, self.tables, self.captions, self.stack = [], [], [], 0, 0, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append((int(tag[1]), a.get("id")))
        elif tag == "th":
            self.th.append(a.get("scope"))
        elif tag == "img":
            self.imgs.append(a.get("alt"))
        elif tag == "table":
            self.tables += 1
        elif tag == "caption":
            self.captions += 1


def test_structure_of_every_report(request):
    pages = _reports(request)
    assert len(pages) >= 2
    for page in pages:
        html = page.read_text(encoding="utf-8")
        o = _Outline()
        o.feed(html)
        where = f"{page.parent.parent.name}/{page.name}"
        assert re.search(r'<html lang="en', html), where
        levels = [lvl for lvl, _ in o.headings]
        assert levels.count(1) == 1 and levels[0] == 1, where
        skips = [(a, b) for a, b in zip(levels, levels[1:]) if b > a + 1]
        assert not skips, f"{where}: heading levels skip {skips}"
        toc = re.search(r'<nav aria-label="Contents".*?</nav>', html, re.S).group(0)
        section_ids = [i for lvl, i in o.headings if lvl == 2 and i and i != "contents"]
        assert section_ids and all(f'href="#{i}"' in toc for i in section_ids), where
        assert all(s in ("col", "row", "colgroup", "rowgroup") for s in o.th), f"{where}: a th without scope"
        assert o.tables == o.captions, f"{where}: a table without a caption"
        for alt in o.imgs:  # alt text from the data: says what is shown, with its numbers
            assert alt and len(alt) >= 30 and re.search(r"\d", alt), f"{where}: weak alt text {alt!r}"


def _luminance(hex_colour: str) -> float:
    # WCAG 2.1 relative luminance (https://www.w3.org/TR/WCAG21/#dfn-relative-luminance)
    rgb = [int(hex_colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_contrast_formula_against_published_values():
    # WCAG: black on white is 21:1; GOV.UK's secondary text #505a5f on white is 7:1 (rounded)
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#505a5f", "#ffffff") == pytest.approx(7.0, abs=0.1)


def test_analysis_function_palette_and_text_contrast():
    # Analysis Function "Data visualisation: colours" categorical palette, in its published order
    assert charts.PALETTE[:6] == ["#12436D", "#28A197", "#801650", "#F46A25", "#3D3D3D", "#A285D1"]
    named = {"white": "#ffffff", "black": "#000000"}
    for bar, text in charts.TEXT_ON.items():  # bar labels: WCAG 1.4.3 needs 4.5:1
        assert contrast(bar, named[text]) >= 4.5, (bar, text)
    css = (Path(charts.__file__).resolve().parents[1] / "templates" / "report.css").read_text()
    for colour in set(re.findall(r"color:\s*(#[0-9a-fA-F]{6})", css)):
        assert contrast(colour, "#ffffff") >= 4.5, f"report.css text colour {colour} on white"


def test_meaning_not_by_colour_alone(request):
    for page in _reports(request):
        html = page.read_text(encoding="utf-8")
        for alt in re.findall(r'<img [^>]*alt="([^"]*)"', html):
            assert "%" in alt or re.search(r"\d", alt)  # every value a chart colours is also in words


@pytest.mark.browser
def test_axe_core_finds_no_serious_or_critical_violation(request):
    from browser import browser_page

    try:
        import axe_playwright_python
    except ImportError:
        pytest.fail("axe-playwright-python (which bundles axe-core) is not installed: pip install -e '.[test]'")
    axe_js = Path(axe_playwright_python.__file__).parent / "axe.min.js"
    problems = {}
    with browser_page(bypass_csp=True, viewport={"width": 1200, "height": 900}) as page:
        for report in _reports(request) + _index_pages(request):
            page.goto(report.as_uri())
            page.add_script_tag(path=str(axe_js))
            version = page.evaluate("axe.version")
            # WCAG 2.2 AA (target size included) and axe's best practices, not only its default set
            result = page.evaluate("axe.run(document, {runOnly: {type: 'tag', values: " + AXE_TAGS + "}, "
                                   "resultTypes: ['violations']})")
            bad = [(v["id"], v["impact"], len(v["nodes"]), v["nodes"][0]["target"])
                   for v in result["violations"] if v["impact"] in ("serious", "critical")]
            if bad:
                problems[f"{report.parent.parent.name}/{report.name}"] = bad
    assert version.startswith("4."), version
    assert not problems, problems


@pytest.mark.browser
def test_reflow_at_320_px_no_page_scrolls_sideways(request):
    """WCAG 1.4.10: at a 320 px viewport nothing but a table's own focusable region scrolls sideways."""
    from browser import browser_page

    problems = {}
    with browser_page(viewport={"width": 320, "height": 800}) as page:
        for report in _reports(request) + _index_pages(request):
            page.goto(report.as_uri())
            width, wide = page.evaluate(
                "[document.documentElement.scrollWidth, [...document.querySelectorAll('body *')]"
                ".filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.table-wrap'))"
                ".slice(0, 3).map(e => e.tagName + '.' + e.className)]")
            if width > 320 or wide:
                problems[f"{report.parent.name}/{report.name}"] = (width, wide)
            regions = page.evaluate("[...document.querySelectorAll('.table-wrap')].filter(e => e.scrollWidth > "
                                    "e.clientWidth).map(e => [e.tabIndex, e.getAttribute('role'), e.getAttribute('aria-label')])")
            assert all(r[0] == 0 and r[1] == "region" and r[2] for r in regions), (report, regions)
    assert not problems, problems


_ALIGN_JS = """(header) => {
  const out = [];
  for (const table of document.querySelectorAll('table')) {
    const heads = [...table.querySelectorAll('thead th')].map(th => th.innerText.trim());
    const k = heads.indexOf(header);
    if (k < 0) continue;
    for (const tr of table.querySelectorAll('tbody tr')) {
      const cell = tr.children[k];
      if (cell) out.push([cell.innerText.trim().slice(0, 12), getComputedStyle(cell).textAlign]);
    }
  }
  return out;
}"""


@pytest.mark.browser
def test_text_columns_left_numbers_right_as_the_browser_draws_them(request):
    """Issue 18: the indicators summary's "Reading" column holds sentences that begin with a number
    ("30.2% (42 of 139) in 2024-09. ..."): drawn left-aligned, as text, because of the column's type;
    a count column ("Audits (n)" of the quarterly report) stays right-aligned."""
    from browser import browser_page

    out = request.getfixturevalue("demo_run")["out"]
    with browser_page() as page:
        page.goto((out / "indicators.html").as_uri())
        reading = page.evaluate(_ALIGN_JS, "Reading")
        page.goto((out / "quarterly.html").as_uri())
        counts = page.evaluate(_ALIGN_JS, "Audits (n)")
    assert len(reading) >= 5 and sum(text[:1].isdigit() for text, _ in reading) >= 5, reading  # the hard case is there
    assert {align for _, align in reading} == {"left"}, reading
    assert counts and {align for _, align in counts} == {"right"}, counts
