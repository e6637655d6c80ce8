"""Hostile text (issue 8): HTML and script in the inputs render as inert, visible text.

A small dataset puts payloads in team names, service areas, cohorts, domains, comments, survey
questions and answers, reasons and a file name; the quarterly report is rendered through
qa_lib.running.render.run_job and opened in headless Chromium twice: as shipped (its CSP blocks scripts)
and with the CSP bypassed (as a council CMS that drops the meta tag would show it), so that
escaping alone must keep every payload inert. A control page proves the detector sees a payload
that does run.
"""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from browser import browser_page

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SCRIPT = "<script>window.__pwned='script';alert(1)</script>"
IMG = "<img src=x onerror=\"window.__pwned='img';alert(2)\">"
LINK = "<a href=\"javascript:window.__pwned='link'\">click me</a>"
SVG = "\"><svg onload=window.__pwned='svg'>"
MATH = "Team $\\bad{$ {{7*7}} & co"  # malformed mathtext must stay text
FILE_PAYLOAD = "<img src=x onerror=window.__pwned=1>"  # no slash: it is a file name


def _hostile_inputs(folder):
    folder.mkdir(parents=True, exist_ok=True)
    areas = [SCRIPT, IMG, "Front Door"]
    teams = [LINK, MATH, SVG]
    audits, ratings, allocations, comments = [], [], [], []
    for k in range(12):
        aid = f"H{k:03d}"
        day = f"2024-{7 + k % 3:02d}-{10 + k:02d}"
        audits.append(dict(audit_id=aid, case_id=f"C{k}", audit_date=day, service_area=areas[k % 3],
                           team=teams[k % 3], cohort=[SVG, "Child in need"][k % 2], auditor_id=f"X{k % 4}",
                           practitioner_id=f"P{k}"))
        grade = ["Outstanding", "Good", "Requires improvement", "Inadequate"][k % 4]
        for domain in ("Overall", IMG, MATH):
            ratings.append(dict(audit_id=aid, rater_id=f"X{k % 4}", role="auditor", domain=domain, grade=grade))
        if k % 2 == 0:
            ratings.append(dict(audit_id=aid, rater_id="M1", role="moderator", domain="Overall",
                                grade=["Good", "Requires improvement"][k % 4 // 2]))
        allocations.append(dict(allocation_id=f"AL{k}", month=day[:7], service_area=areas[k % 3], team=teams[k % 3],
                                practitioner_id=f"P{k}", status="returned", practitioner_took_part=["Yes", "No"][k % 2],
                                reason=SCRIPT if k % 2 else ""))
        comments.append(dict(audit_id=aid, domain="Voice of the child", kind=["strength", "learning"][k % 2],
                             text=f"{SCRIPT} {IMG} {LINK}"))
    feedback = [dict(response_id=f"F{k}", response_date=f"2024-08-{k + 1:02d}", survey=SVG, question=f"{IMG} asked?",
                     answer=["Yes", "No"][k % 2]) for k in range(10)]
    actions = [dict(action_id="ACT1", audit_id="H000", raised_date="2024-07-10", due_date="2024-08-10")]
    files = {}
    for name, rows in dict(audits=audits, ratings=ratings, allocations=allocations, feedback=feedback,
                           actions=actions, comments=comments).items():
        fname = f"{name} {FILE_PAYLOAD}.csv" if name == "comments" else f"{name}.csv"
        pd.DataFrame(rows).to_csv(folder / fname, index=False)
        files[name] = fname
    params = {"period": "2024-25 Q2", "authority": f"Borough of {SCRIPT}", "data": files, "output_dir": "out",
              "domains": [IMG, MATH], "reports": ["quarterly"]}
    path = folder / "params.yaml"
    path.write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory):
    from qa_lib.running.render import run_job

    path = _hostile_inputs(tmp_path_factory.mktemp("hostile"))
    result = run_job(path, "quarterly")
    assert result.status == "ok", f"the hostile report did not render: {result.error} ({result.failed_cell})"
    return result.html


def _open(page, url):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(url)
    page.wait_for_timeout(300)  # let any onerror / onload handler fire
    return dialogs


@pytest.mark.parametrize("bypass_csp", [False, True], ids=["as shipped", "csp bypassed"])
def test_no_payload_executes_and_text_is_visible(hostile_report, bypass_csp):
    from pathlib import Path

    html = Path(hostile_report).read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    with browser_page(bypass_csp=bypass_csp) as page:
        dialogs = _open(page, Path(hostile_report).as_uri())
        assert dialogs == []
        assert page.evaluate("typeof window.__pwned") == "undefined"
        # no element carries an event handler or a javascript: link, no injected element exists
        assert page.evaluate("""() => [...document.querySelectorAll('*')].filter(el =>
            [...el.attributes].some(a => a.name.startsWith('on') ||
                                          /^\\s*javascript:/i.test(a.value))).length""") == 0
        assert page.locator("script, svg, a[href^='javascript']").count() == 0
        assert page.locator("main img:not(figure.chart img)").count() == 0
        text = page.inner_text("body")
        for payload in (SCRIPT, IMG, MATH):
            assert payload in text, f"{payload!r} is not shown as text"
        assert page.get_by_text(FILE_PAYLOAD, exact=False).first.is_visible()


def test_the_detector_sees_a_payload_that_runs(tmp_path):
    control = tmp_path / "control.html"
    control.write_text(f"<!DOCTYPE html><html lang='en'><body><p>{IMG}</p>{SCRIPT}</body></html>")
    with browser_page(bypass_csp=True) as page:
        dialogs = _open(page, control.as_uri())
        assert page.evaluate("typeof window.__pwned") == "string" and dialogs
