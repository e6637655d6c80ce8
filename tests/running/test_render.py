"""The HTML export of an executed report notebook (qa_lib.running.render.export_html)."""

from __future__ import annotations

import nbformat
from bs4 import BeautifulSoup
from nbconvert import HTMLExporter
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from qa_lib.running import render

SVG = "data:image/svg+xml;base64,PHN2Zz48L3N2Zz4="


def _executed() -> nbformat.NotebookNode:
    """An executed notebook as papermill leaves it: headings, a table, a chart with alt text, an image
    without, a stream and a plain-text result (no kernel needed to build it)."""
    cells = [new_markdown_cell("## Overall grades\n\nSome *text* with a [link](#Overall-grades).\n\n### A detail"),
             new_code_cell("rpt.table(x)", outputs=[new_output("display_data", data={
                 "text/html": '<div class="table-wrap" tabindex="0" role="region" aria-label="T"><table class="qa-table">'
                              "<caption>T</caption><tbody><tr><td>1</td></tr></tbody></table></div>"})]),
             new_code_cell("rpt.chart(c)", outputs=[new_output("display_data", data={
                 "text/html": f'<figure><img src="{SVG}" alt="A bar chart of grades"></figure>'})]),
             new_code_cell("x", outputs=[new_output("display_data", data={"text/html": f'<p><img src="{SVG}"></p>'}),
                                         new_output("stream", name="stdout", text="printed\n"),
                                         new_output("execute_result", data={"text/plain": "42"}, execution_count=3)]),
             new_markdown_cell("## Moderation")]
    nb = new_notebook(cells=cells, metadata={"language_info": {"name": "python", "pygments_lexer": "ipython3"}})
    return nb


def _dom(html: str) -> str:
    return BeautifulSoup(html, features="html.parser").prettify()


def test_export_is_nbconvert_s_page_without_its_slow_soup_pass():
    """Issue 18 (pack speed): the exporter skips HTMLExporter's final BeautifulSoup pass. Its output is
    the stock exporter's, element for element, except the two things that pass did: a placeholder alt
    on an image without one (export_html adds it itself) and a tabindex on every output area."""
    nb = _executed()
    options = dict(template_name="basic", exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True,
                   anchor_link_text="")
    stock, _ = HTMLExporter(**options).from_notebook_node(nb)
    ours, _ = render._html_exporter().from_notebook_node(nb)
    soup = BeautifulSoup(stock, features="html.parser")
    for el in soup.select(".jp-Notebook div.jp-OutputArea-output"):
        del el.attrs["tabindex"]
    placeholder = soup.select('img[alt="No description has been provided for this image"]')
    assert len(placeholder) == 1
    del placeholder[0].attrs["alt"]
    assert _dom(ours) == soup.prettify()
    assert "printed" in ours and "42" in ours and "A bar chart of grades" in ours and "rpt.table" not in ours


def test_export_html_page_gives_every_image_alt_text():
    page = render.export_html(_executed(), title="Quarterly", period="2024-25 Q2", authority="Demo", audience_note="")
    imgs = BeautifulSoup(page, features="html.parser").find_all("img")
    assert len(imgs) == 2 and all(img.get("alt") for img in imgs)
    assert [img["alt"] for img in imgs] == ["A bar chart of grades", "No description has been provided for this image"]
    assert 'tabindex="0"' in page  # the table's own region stays focusable
    assert page.count('tabindex="0"') == 1  # and no output area is an unnamed tab stop


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def test_export_html_leaves_no_heading_anchor_and_no_self_closed_element():
    """nbconvert writes each heading's anchor as ``<a class="anchor-link" href="#..." />``; HTML has no
    self-closing ``<a>``, so a browser would read the rest of the section as one unnamed link (axe
    link-name). The page keeps none of them, and no other non-void element is written self-closed."""
    import re

    page = render.export_html(_executed(), title="Quarterly", period="2024-25 Q2", authority="Demo", audience_note="")
    assert "anchor-link" not in page
    closed = {m.group(1).lower() for m in re.finditer(r"<([a-zA-Z][a-zA-Z0-9]*)\b[^<>]*/>", page)}
    assert closed <= VOID, closed
    assert '<h2 id="Overall-grades">Overall grades</h2>' in page and '<h3 id="A-detail">A detail</h3>' in page
