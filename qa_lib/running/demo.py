"""Seeded synthetic QA programme for the demo and the tests.

Ten financial quarters (2022-23 Q1 to 2024-25 Q2) of a fictional authority: seven service
areas, six cohorts, nine practice domains, 40–80 audits a month, a 30–50% moderated share
(auditors are more lenient than moderators in some quarters), three peers per case in SEND,
allocations with 50–85% returns, exemptions and non-participation reasons, two family feedback
surveys, actions with due dates and strength/learning comments.

The story the data tells (so the report has something true to find): practice improves
slowly overall; Children in Care improves clearly; Front Door dips in the latest quarter;
chronology is the weakest domain and voice of the child the strongest; auditors grade
generously in 2023-24 Q2–Q3 and again in the latest quarter.

Every identifier is invented. ``generate(seed)`` is deterministic: the shipped files in
``qa_lib/demo_data/`` are its output for :data:`DEFAULT_SEED`, checked by a test.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

DEFAULT_SEED = 20240930
DEMO_DIR = Path(__file__).resolve().parents[1] / "demo_data"
FIRST_MONTH = date(2022, 4, 1)
N_MONTHS = 30  # April 2022 – September 2024
EXTRACT_DATE = date(2024, 10, 7)

SERVICES: dict[str, list[str]] = {
    "Front Door": ["MASH", "Early Help Hub"],
    "Assessment": ["Assessment North", "Assessment South"],
    "Child in Need and Protection": ["CIN/CP East", "CIN/CP West", "CIN/CP Central"],
    "Children in Care": ["Children in Care 1", "Children in Care 2"],
    "Care Leavers": ["Leaving Care"],
    "Disabled Children": ["Children with Disabilities"],
    "SEND": ["SEND Casework", "EHCP Coordination"],
}
SERVICE_SHARE = np.array([0.15, 0.17, 0.22, 0.16, 0.08, 0.07, 0.15])
COHORTS_BY_SERVICE = {
    "Front Door": ({"Early help": 0.6, "Child in need": 0.4}),
    "Assessment": ({"Child in need": 0.7, "Child protection": 0.3}),
    "Child in Need and Protection": ({"Child protection": 0.55, "Child in need": 0.45}),
    "Children in Care": ({"Children looked after": 1.0}),
    "Care Leavers": ({"Care leaver": 1.0}),
    "Disabled Children": ({"Child in need": 0.6, "Children looked after": 0.2, "EHCP": 0.2}),
    "SEND": ({"EHCP": 1.0}),
}
DOMAINS = ["Chronology", "Assessment and analysis", "Voice of the child", "Planning and outcomes",
           "Direct work", "Multi-agency working", "Management oversight", "Supervision", "Recording"]
DOMAIN_EFFECT = np.array([-0.55, 0.0, 0.35, -0.15, 0.2, 0.1, -0.25, -0.1, 0.05])
GRADES = ["Outstanding", "Good", "Requires improvement", "Inadequate"]
# Latent-quality cut points: above 1.25 Outstanding, 0.25 Good, -0.85 RI, else Inadequate.
CUTS = np.array([1.25, 0.25, -0.85])
LENIENT_QUARTERS = {"2023-24 Q2": 0.3, "2023-24 Q3": 0.25, "2024-25 Q2": 0.3}
SURVEYS = {
    "Family feedback (social care)": [
        ("Did your social worker explain why they were involved with your family?", 0.78),
        ("Did you feel listened to?", 0.72),
        ("Were your child's wishes and feelings taken into account?", 0.66),
        ("Did you understand the plan for your child?", 0.62),
        ("Did your social worker keep you informed of changes?", 0.55),
        ("Has the help you received made a difference?", 0.6),
    ],
    "SEND family feedback": [
        ("Were you involved in writing the EHC plan?", 0.58),
        ("Does the plan describe your child's needs accurately?", 0.63),
        ("Were you kept informed during the assessment?", 0.48),
        ("Was the plan issued on time?", 0.5),
        ("Would you recommend the service to another family?", 0.55),
    ],
}
ANSWERS = ["Yes", "Partly", "No", "Didn't need to"]
EXEMPT_REASONS = ["Case closed before audit", "Practitioner on long-term leave", "Case transferred to another team",
                  "Child moved out of area"]
NON_PARTICIPATION = ["Annual leave", "Sickness", "Caseload pressures", "Not invited by auditor",
                     "Left the authority", "Training"]
STRENGTHS = {
    "Chronology": ["The chronology is up to date and shows the impact of key events.",
                   "A clear chronology helped the new worker understand the family's history."],
    "Assessment and analysis": ["The assessment analyses risk and protective factors well.",
                                "Good use of a genogram to understand the family network."],
    "Voice of the child": ["The voice of the child is clear: direct work captures their wishes and feelings.",
                           "The child's lived experience comes through in the recording."],
    "Planning and outcomes": ["The plan has SMART outcomes that the family understands.",
                              "Outcomes are specific and reviewed at each core group."],
    "Direct work": ["Creative direct work with the child, using age-appropriate tools.",
                    "Consistent visits and direct work have built a trusting relationship."],
    "Multi-agency working": ["Strong multi-agency working with school and health.",
                             "Partners attend meetings and information is shared promptly."],
    "Management oversight": ["Management oversight is evident at key decision points.",
                             "Clear management direction with timescales."],
    "Supervision": ["Regular reflective supervision is recorded with actions.",
                    "Supervision records show reflective discussion of risk."],
    "Recording": ["Recording is timely and written to the child.",
                  "Case summary is current and easy to follow."],
}
LEARNING = {
    "Chronology": ["No up-to-date chronology on file; significant events are missing.",
                   "The chronology has not been updated since the last review."],
    "Assessment and analysis": ["The assessment describes but does not analyse; no genogram on file.",
                                "Historical concerns are not considered in the assessment."],
    "Voice of the child": ["The voice of the child is not evident; the child was not seen alone.",
                           "Wishes and feelings are not recorded for the younger sibling."],
    "Planning and outcomes": ["Plan outcomes are not SMART and there is evidence of drift.",
                              "Actions lack timescales, leading to drift and delay."],
    "Direct work": ["Little direct work recorded since allocation.",
                    "Direct work is planned but has not happened."],
    "Multi-agency working": ["Health partners were not invited to the strategy discussion.",
                             "Information from school was not followed up."],
    "Management oversight": ["Management oversight is not evident at the point of step-down.",
                             "No management oversight of the decision to close the case."],
    "Supervision": ["Supervision is infrequent and not reflective.",
                    "Supervision actions are carried forward without review, showing drift."],
    "Recording": ["Case recording is several weeks behind.",
                  "The case summary is out of date."],
}


def _month(i: int) -> date:
    m = FIRST_MONTH.month - 1 + i
    return date(FIRST_MONTH.year + m // 12, m % 12 + 1, 1)


def _quarter_label(d: date) -> str:
    fy = d.year if d.month >= 4 else d.year - 1
    return f"{fy}-{(fy + 1) % 100:02d} Q{((d.month - 4) % 12) // 3 + 1}"


def _grade(latent: np.ndarray) -> np.ndarray:
    idx = (latent[..., None] < CUTS).sum(axis=-1)  # 0 = Outstanding ... 3 = Inadequate
    return np.asarray(GRADES, dtype=object)[idx]


def generate(seed: int = DEFAULT_SEED) -> dict[str, pd.DataFrame]:
    """Generate the six input tables of the demo authority.

    Returns
    -------
    dict of str to DataFrame
        ``audits``, ``ratings`` (long), ``allocations``, ``feedback``, ``actions``, ``comments``,
        with contract column names and text values, as a case system would export them.
    """
    rng = np.random.default_rng(seed)
    services = list(SERVICES)
    practitioners = {s: [f"P{1000 + 40 * k + j:05d}" for j in range(rng.integers(14, 30))] for k, s in enumerate(services)}
    prac_effect = {p: rng.normal(0, 0.35) for ps in practitioners.values() for p in ps}
    auditors = [f"AUD{n:03d}" for n in range(1, 27)]
    auditor_lenience = dict(zip(auditors, rng.normal(0, 0.18, len(auditors))))
    moderators = [f"MOD{n:02d}" for n in range(1, 5)]
    service_effect = dict(zip(services, [0.05, -0.1, -0.2, -0.25, 0.1, 0.15, -0.05]))
    next_case = 3_100_000

    alloc_rows, audit_rows, rating_rows, action_rows, comment_rows = [], [], [], [], []
    audit_no = alloc_no = action_no = 0
    for i in range(N_MONTHS):
        month = _month(i)
        quarter = _quarter_label(month)
        q_index = i // 3
        n_alloc = int(rng.integers(66, 104))
        per_service = rng.multinomial(n_alloc, SERVICE_SHARE)
        days_in_month = ((_month(i + 1) - month).days)
        for service, k in zip(services, per_service):
            base_return = 0.62 + 0.02 * q_index + (0.1 if service in ("Care Leavers", "Disabled Children") else 0)
            base_return -= 0.12 if service == "Front Door" and q_index >= 8 else 0
            chosen = rng.choice(practitioners[service], size=min(k, len(practitioners[service])), replace=False)
            for prac in chosen:
                alloc_no += 1
                team = rng.choice(SERVICES[service])
                u = rng.random()
                if u < 0.07:
                    status, took, reason = "exempt", "", rng.choice(EXEMPT_REASONS)
                elif rng.random() < min(0.92, base_return + rng.normal(0, 0.05)):
                    status = "returned"
                    took_part = rng.random() < 0.72 + 0.015 * q_index
                    took, reason = ("Yes", "") if took_part else ("No", rng.choice(NON_PARTICIPATION))
                else:
                    status, took, reason = "not returned", "", ""
                alloc_rows.append(dict(allocation_id=f"AL{alloc_no:05d}", month=month.strftime("%Y-%m"),
                                       service_area=service, team=team, practitioner_id=prac, status=status,
                                       practitioner_took_part=took, reason=reason))
                if status != "returned":
                    continue
                audit_no += 1
                next_case += int(rng.integers(3, 400))
                audit_id = f"QA{audit_no:05d}"
                cohorts = COHORTS_BY_SERVICE[service]
                cohort = rng.choice(list(cohorts), p=list(cohorts.values()))
                auditor = rng.choice(auditors)
                audit_date = month + timedelta(days=int(rng.integers(0, days_in_month)))
                trend = 0.035 * q_index + (0.06 * q_index if service == "Children in Care" else 0)
                trend -= 0.55 if service == "Front Door" and quarter == "2024-25 Q2" else 0
                quality = -0.05 + service_effect[service] + trend + prac_effect[prac] + rng.normal(0, 0.55)
                lenient = LENIENT_QUARTERS.get(quarter, 0.0) + auditor_lenience[auditor]
                audit_rows.append(dict(audit_id=audit_id, case_id=str(next_case), audit_date=audit_date.isoformat(),
                                       service_area=service, team=team, cohort=cohort, auditor_id=auditor,
                                       practitioner_id=prac))
                domain_true = quality + DOMAIN_EFFECT + rng.normal(0, 0.45, len(DOMAINS))
                overall_true = quality + rng.normal(0, 0.15)
                names = ["Overall", *DOMAINS]
                truth = np.concatenate([[overall_true], domain_true])
                auditor_view = truth + lenient + rng.normal(0, 0.28, truth.size)
                for dom, grade in zip(names, _grade(auditor_view)):
                    rating_rows.append(dict(audit_id=audit_id, rater_id=auditor, role="auditor", domain=dom,
                                            grade=grade, rating_date=audit_date.isoformat()))
                mod_share = 0.3 + 0.2 * ((q_index * 7) % 5) / 4
                if rng.random() < mod_share:
                    moderator = rng.choice(moderators)
                    mod_view = truth + rng.normal(0, 0.28, truth.size)
                    mod_date = (audit_date + timedelta(days=int(rng.integers(5, 25)))).isoformat()
                    for dom, grade in zip(names, _grade(mod_view)):
                        rating_rows.append(dict(audit_id=audit_id, rater_id=moderator, role="moderator", domain=dom,
                                                grade=grade, rating_date=mod_date))
                if service == "SEND":
                    peers = rng.choice([a for a in auditors if a != auditor], size=2, replace=False)
                    for peer in peers:
                        peer_view = truth + auditor_lenience[peer] + rng.normal(0, 0.3, truth.size)
                        for dom, grade in zip(names, _grade(peer_view)):
                            rating_rows.append(dict(audit_id=audit_id, rater_id=peer, role="peer", domain=dom,
                                                    grade=grade, rating_date=audit_date.isoformat()))
                for _ in range(rng.poisson(1.3)):
                    action_no += 1
                    raised = audit_date + timedelta(days=int(rng.integers(0, 4)))
                    due = raised + timedelta(weeks=8)
                    u = rng.random()
                    done = raised + timedelta(days=int(rng.integers(7, 56))) if u < 0.68 else (
                        raised + timedelta(days=int(rng.integers(57, 120))) if u < 0.86 else None)
                    if done is not None and done > EXTRACT_DATE:
                        done = None
                    action_rows.append(dict(action_id=f"ACT{action_no:05d}", audit_id=audit_id,
                                            raised_date=raised.isoformat(), due_date=due.isoformat(),
                                            completed_date=done.isoformat() if done else "",
                                            domain=DOMAINS[int(np.argmin(domain_true))]))  # the weakest domain
                order = np.argsort(domain_true)
                for kind, pool, pick in (("strength", STRENGTHS, order[-1]), ("learning", LEARNING, order[0])):
                    dom = DOMAINS[pick]
                    text = rng.choice(pool[dom])
                    if rng.random() < 0.03:  # identifiers typed into free text, for redaction to find
                        text = f"Case {next_case}: " + text
                    comment_rows.append(dict(audit_id=audit_id, domain=dom, kind=kind, text=text))

    feedback_rows = []
    response_no = 0
    for i in range(N_MONTHS):
        month = _month(i)
        for survey, questions in SURVEYS.items():
            for _ in range(int(rng.integers(8, 20))):
                response_no += 1
                day = month + timedelta(days=int(rng.integers(0, 28)))
                lift = 0.012 * (i // 3)
                for question, p_yes in questions:
                    p = min(0.92, p_yes + lift)
                    probs = np.array([p, (1 - p) * 0.45, (1 - p) * 0.4, (1 - p) * 0.15])
                    answer = rng.choice(ANSWERS, p=probs / probs.sum())
                    feedback_rows.append(dict(response_id=f"FB{response_no:05d}", response_date=day.isoformat(),
                                              survey=survey, question=question, answer=answer))

    return {
        "audits": pd.DataFrame(audit_rows),
        "ratings": pd.DataFrame(rating_rows),
        "allocations": pd.DataFrame(alloc_rows),
        "feedback": pd.DataFrame(feedback_rows),
        "actions": pd.DataFrame(action_rows),
        "comments": pd.DataFrame(comment_rows),
        **_indicator_tables(seed),  # issue 9: its own RNG stream, so the tables above do not change
    }


# --------------------------------------------------------------------------------------
# issue 9: performance indicators and benchmarks
# --------------------------------------------------------------------------------------
#: name -> (polarity, level, denominator range or None for a measured value, target, spread of a
#: measured value, England values for 2022-23 and 2023-24, England denominator or None,
#: statistical-neighbour offset from England). Levels and benchmarks are illustrative values of
#: the right order for an English authority, not the published statistics.
INDICATORS: dict[str, tuple] = {
    "Re-referrals within 12 months": ("lower is better", 0.20, (120, 170), 21, None, (22.4, 22.4), 650_000, -0.8),
    "Repeat child protection plans": ("lower is better", 0.22, (18, 35), 20, None, (23.3, 23.6), 65_000, -1.0),
    "Children looked after with 3+ placements in a year": ("lower is better", 0.10, (330, 360), 9, None,
                                                           (10.0, 10.0), 83_000, 0.3),
    "Assessments completed within 45 working days": ("higher is better", 0.84, (110, 160), 85, None,
                                                     (82.9, 81.7), 640_000, 1.2),
    "Initial child protection conferences within 15 working days": ("higher is better", 0.80, (20, 35), 85, None,
                                                                    (78.0, 78.2), 80_000, 1.5),
    "Child protection visits within timescale": ("higher is better", 0.91, (200, 240), 95, None, None, None, None),
    "EHC plans issued within 20 weeks": ("higher is better", 0.52, (25, 50), 60, None, (49.2, 50.3), 66_000, -2.0),
    "EHC plan annual reviews completed on time": ("higher is better", 0.63, (120, 180), 75, None, None, None, None),
    "Care leavers aged 19 to 21 in education, employment or training": ("higher is better", 0.56, (150, 175), 60, None,
                                                                        (56.0, 55.0), 38_000, 1.0),
    "Care leavers aged 19 to 21 in suitable accommodation": ("higher is better", 0.88, (150, 175), 90, None,
                                                             (88.0, 88.0), 38_000, 0.5),
    "Average social worker caseload": ("lower is better", 17.5, None, 18, 0.8, (16.3, 15.8), None, 0.6),
    "Average days from entering care to moving in with an adoptive family": ("lower is better", 430.0, None, 426, 45.0,
                                                                             (475.0, 469.0), None, -12.0),
}
#: The one indicator whose process changes: re-referrals rise to about 31% from January 2024.
SHIFT = {"indicator": "Re-referrals within 12 months", "from_month": 21, "level": 0.31}


def _indicator_tables(seed: int) -> dict[str, pd.DataFrame]:
    """Monthly indicator values (April 2022 – September 2024) and England / statistical-neighbour benchmarks.

    Counts are binomial around a fixed level (a stable process), except :data:`SHIFT`; measured
    values are normal around theirs. England values are annual with counts; statistical
    neighbours publish quarterly rates only (no counts), as benchmarking clubs share them.
    """
    rng = np.random.default_rng([seed, 9])
    rows, bench = [], []
    for name, (polarity, level, dens, target, spread, england, eng_n, sn_offset) in INDICATORS.items():
        for i in range(N_MONTHS):
            label = _month(i).strftime("%Y-%m")
            row = dict(indicator=name, period=label, value="", numerator="", denominator="", polarity=polarity,
                       target=f"{target:g}")
            if dens is None:
                row["value"] = f"{rng.normal(level, spread):.1f}"
            else:
                p = SHIFT["level"] if name == SHIFT["indicator"] and i >= SHIFT["from_month"] else level
                n = int(rng.integers(dens[0], dens[1] + 1))
                x = int(rng.binomial(n, p))
                row.update(value=f"{100 * x / n:.1f}", numerator=str(x), denominator=str(n))
            rows.append(row)
        if england is None:
            continue
        for year, value in zip(("2022-23", "2023-24"), england):
            entry = dict(indicator=name, period=year, comparator="England", value=f"{value:g}", numerator="",
                         denominator="")
            if eng_n is not None:
                x = int(round(eng_n * value / 100))
                entry.update(value=f"{100 * x / eng_n:.1f}", numerator=str(x), denominator=str(eng_n))
            bench.append(entry)
        for q in range(9):  # 2022-23 Q1 .. 2024-25 Q1: published a quarter in arrears
            fy, qn = 2022 + q // 4, q % 4 + 1
            base = england[min(q // 4, 1)] + sn_offset
            noise = rng.normal(0, 0.6 if dens is not None else (spread or 1) / 4)
            bench.append(dict(indicator=name, period=f"{fy}-{(fy + 1) % 100:02d} Q{qn}", comparator="Statistical neighbours",
                              value=f"{base + noise:.1f}", numerator="", denominator=""))
    return {"indicators": pd.DataFrame(rows), "benchmarks": pd.DataFrame(bench)}


def write(directory: Path = DEMO_DIR, seed: int = DEFAULT_SEED) -> dict[str, Path]:
    """Generate and write the demo tables as CSV; returns the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, frame in generate(seed).items():
        path = directory / f"{name}.csv"
        frame.to_csv(path, index=False, lineterminator="\n")
        paths[name] = path
    return paths


if __name__ == "__main__":  # python -m qa_lib.running.demo regenerates the shipped files
    for path in write().values():
        print(f"wrote {path}")
