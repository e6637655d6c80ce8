"""Issue 16 item 4: a two-grade scale ("Good" / "Not yet good", as 003_* reports) renders every
report end to end through papermill, and the highlight report says what needs more grades."""

from __future__ import annotations

import pandas as pd

from conftest import write_inputs


def test_binary_scale_renders_every_audit_report(tmp_path):
    from qa_lib.running.render import run_job

    n = 36
    audits = pd.DataFrame({"audit_id": [f"A{i}" for i in range(n)], "case_id": [f"C{i}" for i in range(n)],
                           "audit_date": [f"2024-{4 + i % 6:02d}-05" for i in range(n)],
                           "service_area": ["East", "West"] * (n // 2), "auditor_id": [f"X{i % 3}" for i in range(n)],
                           "cohort": ["Child in need", "Child protection"] * (n // 2)})
    rows = []
    for i in range(n):
        for d in ("Overall", "Voice of the child"):
            rows.append({"audit_id": f"A{i}", "rater_id": f"X{i % 3}", "role": "auditor", "domain": d,
                         "grade": "Good" if i % 3 else "Not yet good"})
        if i % 2 == 0:
            rows.append({"audit_id": f"A{i}", "rater_id": "M", "role": "moderator", "domain": "Overall",
                         "grade": "Not yet good" if i % 4 else "Good"})
    params = write_inputs(tmp_path / "in", period="2024-25 Q2", audits=audits, ratings=pd.DataFrame(rows),
                          extra={"grades": ["Good", "Not yet good"], "good_or_better": 1,
                                 "reports": ["quarterly", "moderation", "feedback", "indicators", "highlight"]})
    for report in ("quarterly", "moderation", "feedback", "indicators", "highlight"):  # every report
        result = run_job(params, report)
        assert result.status == "ok", (report, result.error, result.failed_cell)
    html = (tmp_path / "in" / "out" / "2024-25-Q2" / "highlight.html").read_text(encoding="utf-8")
    assert "The grade scale has 2 grades (Good, Not yet good)" in html
    assert "<h1>Quarterly QA highlight report: 2024-25 Q2" in html


def test_demo_monthly_highlight_renders_without_identifiers(tmp_path):
    """Issue 16 item 5: `make demo` renders params/demo-highlight.yaml (September 2024 beside July and
    August); the page says its cadence, draws the past 12 months as SPC and shows no input identifier."""
    import re

    from conftest import ROOT, demo_params_copy, input_identifiers
    from qa_lib.running.render import run_job

    path = demo_params_copy(tmp_path, source=ROOT / "params" / "demo-highlight.yaml")
    result = run_job(path, "highlight")
    assert result.status == "ok", (result.error, result.failed_cell)
    out = tmp_path / "outputs" / "2024-09"
    page = (out / "highlight.html").read_text(encoding="utf-8")
    assert "<h1>Monthly QA highlight report: September 2024</h1>" in page
    assert "Statistical process control p chart" in page  # 12 monthly points: SPC, not a run chart
    ids = input_identifiers()
    pattern = re.compile(r"(?<![A-Za-z0-9])(" + "|".join(map(re.escape, sorted(ids, key=len, reverse=True))) + r")(?![A-Za-z0-9])")
    for f in [out / "highlight.html", *(out / "tables").glob("*.csv")]:
        assert not pattern.search(f.read_text(encoding="utf-8")), f.name
