"""Large synthetic inputs for the benchmark: 100,000 audits and 1,000,000 ratings by default.

``generate(n_audits)`` builds the six input tables vectorised (seeded): each audit has the
auditor's Overall grade and six domain grades, and 30% of audits are moderated on Overall and
nine domains, so ratings = 7 × audits + 10 × 0.3 × audits = 10 × audits. Grade labels and
dates come in the spellings people type (``RI``, ``Good ``, ``03/05/2024``) so validation does
real work. ``write_inputs`` writes them as CSV with a params file; ``measure`` loads, validates
and computes every report table (the notebooks' cells executed in-process, no kernel) and
prints a JSON line with times and peak memory (run it in a fresh process). Load + validation is
measured against a plain ``pandas.read_csv`` of the same files in the same process, best of three
each, as a wall-clock and a CPU-time multiple.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SERVICES = ["Front Door", "Assessment", "Child in Need and Protection", "Children in Care", "Care Leavers",
            "Disabled Children", "SEND"]
COHORTS = ["Early help", "Child in need", "Child protection", "Children looked after", "Care leaver", "EHCP"]
DOMAINS = ["Chronology", "Assessment and analysis", "Voice of the child", "Planning and outcomes",
           "Direct work", "Multi-agency working", "Management oversight", "Supervision", "Recording"]
LABELS = [["Outstanding", "outstanding", "O"], ["Good", "Good ", "G", "good"],
          ["Requires improvement", "RI", "Req. Improvement", "requires improvement to be good"],
          ["Inadequate", "inadequate", "I"]]
FIRST = np.datetime64("2022-04-01")
DAYS = 913  # April 2022 – September 2024


def _labels(codes: np.ndarray, rng) -> np.ndarray:
    out = np.empty(codes.size, dtype=object)
    for g, spellings in enumerate(LABELS):
        idx = np.flatnonzero(codes == g)
        out[idx] = np.asarray(spellings, dtype=object)[rng.integers(0, len(spellings), idx.size)]
    return out


def _dates(days: np.ndarray, rng, uk_share: float = 0.2) -> np.ndarray:
    d = (FIRST + days.astype("timedelta64[D]")).astype("datetime64[D]")
    iso = np.datetime_as_string(d).astype(object)
    uk = rng.random(days.size) < uk_share
    s = pd.Series(d[uk])
    iso[uk] = s.dt.strftime("%d/%m/%Y").to_numpy(dtype=object)
    return iso


def generate(n_audits: int = 100_000, seed: int = 1) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n = n_audits
    audit_id = np.char.add("QA", np.char.zfill(np.arange(1, n + 1).astype(str), 7)).astype(object)
    day = rng.integers(0, DAYS, n)
    service = rng.integers(0, len(SERVICES), n)
    quality = rng.normal(0.2, 0.8, n) + 0.0004 * day
    auditors = np.char.add("AUD", np.char.zfill(rng.integers(1, 200, n).astype(str), 3)).astype(object)
    audits = pd.DataFrame({
        "audit_id": audit_id, "case_id": (3_000_000 + rng.permutation(n)).astype(str),
        "audit_date": _dates(day, rng), "service_area": np.asarray(SERVICES, dtype=object)[service],
        "team": np.char.add("Team ", rng.integers(1, 40, n).astype(str)).astype(object),
        "cohort": np.asarray(COHORTS, dtype=object)[rng.integers(0, len(COHORTS), n)],
        "auditor_id": auditors,
        "practitioner_id": np.char.add("P", np.char.zfill(rng.integers(1, 3000, n).astype(str), 5)).astype(object)})

    def grades(latent):
        return (latent[:, None] < np.array([1.25, 0.25, -0.85])).sum(axis=1)

    aud_domains = ["Overall", *DOMAINS[:6]]
    a_idx = np.repeat(np.arange(n), len(aud_domains))
    a_dom = np.tile(np.asarray(aud_domains, dtype=object), n)
    a_lat = quality[a_idx] + rng.normal(0, 0.4, a_idx.size)
    moderated = rng.permutation(n)[: int(round(0.3 * n))]
    mod_domains = ["Overall", *DOMAINS]
    m_idx = np.repeat(moderated, len(mod_domains))
    m_dom = np.tile(np.asarray(mod_domains, dtype=object), moderated.size)
    m_lat = quality[m_idx] - 0.1 + rng.normal(0, 0.4, m_idx.size)
    ratings = pd.DataFrame({
        "audit_id": np.concatenate([audit_id[a_idx], audit_id[m_idx]]),
        "rater_id": np.concatenate([auditors[a_idx], np.char.add("MOD", rng.integers(1, 9, m_idx.size).astype(str)).astype(object)]),
        "role": np.concatenate([np.full(a_idx.size, "auditor", dtype=object), np.full(m_idx.size, "moderator", dtype=object)]),
        "domain": np.concatenate([a_dom, m_dom]),
        "grade": _labels(np.concatenate([grades(a_lat), grades(m_lat)]), rng)})

    n_alloc = int(n * 1.25)
    alloc_day = rng.integers(0, DAYS, n_alloc)
    status = rng.choice(np.array(["returned", "not returned", "exempt", "Complete"], dtype=object), n_alloc,
                        p=[0.6, 0.25, 0.07, 0.08])
    took = np.where(np.isin(status, ["returned", "Complete"]), rng.choice(np.array(["Yes", "No"], dtype=object), n_alloc,
                                                                          p=[0.8, 0.2]), "")
    allocations = pd.DataFrame({
        "allocation_id": np.char.add("AL", np.char.zfill(np.arange(1, n_alloc + 1).astype(str), 7)).astype(object),
        "month": pd.Series((FIRST + alloc_day.astype("timedelta64[D]")).astype("datetime64[D]")).dt.strftime("%Y-%m").to_numpy(object),
        "service_area": np.asarray(SERVICES, dtype=object)[rng.integers(0, len(SERVICES), n_alloc)],
        "status": status, "practitioner_took_part": took,
        "reason": np.where(took == "No", "Caseload pressures", "")})

    n_fb = n // 2
    feedback = pd.DataFrame({
        "response_id": np.char.add("FB", np.char.zfill((np.arange(n_fb) // 5 + 1).astype(str), 7)).astype(object),
        "response_date": _dates(np.repeat(rng.integers(0, DAYS, n_fb // 5 + 1), 5)[:n_fb], rng),
        "survey": "Family feedback (social care)",
        "question": np.tile(np.array([f"Question {i}" for i in range(1, 6)], dtype=object), n_fb // 5 + 1)[:n_fb],
        "answer": rng.choice(np.array(["Yes", "Partly", "No", "Didn't need to"], dtype=object), n_fb)})

    n_act = n
    raised = rng.integers(0, DAYS, n_act)
    done = np.where(rng.random(n_act) < 0.8, raised + rng.integers(5, 90, n_act), -1)
    actions = pd.DataFrame({
        "action_id": np.char.add("ACT", np.char.zfill(np.arange(1, n_act + 1).astype(str), 7)).astype(object),
        "audit_id": audit_id[rng.integers(0, n, n_act)], "raised_date": _dates(raised, rng, 0),
        "due_date": _dates(raised + 56, rng, 0),
        "completed_date": np.where(done >= 0, _dates(np.maximum(done, 0), rng, 0), "")})
    comments = pd.DataFrame({
        "audit_id": np.repeat(audit_id, 2), "domain": np.asarray(DOMAINS, dtype=object)[rng.integers(0, 9, 2 * n)],
        "kind": np.tile(np.array(["strength", "learning"], dtype=object), n),
        "text": np.tile(np.array(["The chronology is up to date.", "Recording is several weeks behind."], dtype=object), n)})
    return {"audits": audits, "ratings": ratings, "allocations": allocations, "feedback": feedback,
            "actions": actions, "comments": comments}


def write_inputs(folder: Path, n_audits: int = 100_000, *, period: str = "2024-25 Q2", seed: int = 1) -> Path:
    """Write the tables as CSV and a params file beside them; return the params path."""
    folder.mkdir(parents=True, exist_ok=True)
    frames = generate(n_audits, seed)
    for name, frame in frames.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    params = {"period": period, "data": {t: f"{t}.csv" for t in frames}, "output_dir": "outputs",
              "domains": DOMAINS, "history_periods": 4}
    path = folder / "params.yaml"
    path.write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    return path


def direct_tables(ds) -> dict[str, pd.DataFrame]:
    """The quarterly report's qa_lib.sections.tables computations (used by the small-scale test)."""
    from qa_lib.sections import tables as t

    return {"audit_volume": t.audit_volume(ds), "overall_by_period": t.overall_by_period(ds),
            "grades_by_service_area": t.grades_by(ds, "service_area"), "grades_by_cohort": t.grades_by(ds, "cohort"),
            "grades_by_domain": t.grades_by_domain(ds), "returns_by_month": t.returns_by(ds, "month_label"),
            "returns_by_service_area": t.returns_by(ds, "service_area"), "participation": t.participation(ds),
            "non_participation_reasons": t.non_participation_reasons(ds),
            "moderation_outcomes": t.moderation_outcomes(ds), "confusion": t.confusion(t.moderation_pairs(ds), ds)}


def pipeline_in_memory(frames: dict[str, pd.DataFrame], *, period: str, folder: Path | None = None) -> dict:
    """Write ``frames``, load and validate them, and compute the quarterly tables; return counts."""
    import tempfile

    from qa_lib.inputs.data import load_dataset
    from qa_lib.inputs.params import load_params

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(folder or tmp)
        for name, frame in frames.items():
            frame.to_csv(base / f"{name}.csv", index=False)
        (base / "params.yaml").write_text(yaml.safe_dump(
            {"period": period, "data": {t: f"{t}.csv" for t in frames}, "output_dir": "outputs"}), encoding="utf-8")
        ds = load_dataset(load_params(base / "params.yaml"))
        out = direct_tables(ds)
    rejected = int((ds.issues["severity"] == "rejected").sum()) if len(ds.issues) else 0
    return {"rows": dict(ds.read_counts), "tables": sum(1 for f in out.values() if f is not None), "rejected": rejected}


def run_notebook_cells(report: str, params_path: Path, output_dir: Path, ds) -> float:
    """Execute a report notebook's code cells in this process (no kernel, no HTML export), with the
    dataset already loaded; return the seconds taken."""
    import qa_lib.present.report as report_mod
    from qa_lib.running.render import load_notebook

    nb = load_notebook(report)
    original = report_mod.Report.dataset
    report_mod.Report.dataset = property(lambda self: ds)  # the data loaded once, as a per-process cache would
    try:
        namespace = {"params_path": str(params_path), "output_dir": str(output_dir)}
        t0 = time.perf_counter()
        for cell in nb.cells:
            if cell.cell_type == "code" and "parameters" not in cell.metadata.get("tags", []):
                exec(compile(cell.source, f"<{report} notebook>", "exec"), namespace)
        return time.perf_counter() - t0
    finally:
        report_mod.Report.dataset = original


def load_ratio(params, rounds: int = 3) -> tuple[dict, object]:
    """Load + validation (``load_dataset``) against a plain ``pandas.read_csv`` of the same files, measured
    side by side in this process (issue 15), best of ``rounds`` each, in wall-clock and CPU time (all
    threads of the process: pyarrow reads with several). On a shared machine the CPU-time multiple is
    the steadier figure; the wall-clock one is the target's. Returns the figures and the last dataset."""
    from qa_lib.inputs.data import load_dataset
    from qa_lib.inputs.params import TABLES

    plain, plain_cpu = [], []
    for _ in range(rounds):
        tp, cp = time.perf_counter(), time.process_time()
        for table in TABLES:
            for f in params.files(table):
                pd.read_csv(f)
        plain.append(time.perf_counter() - tp)
        plain_cpu.append(time.process_time() - cp)
    t_plain, c_plain = min(plain), min(plain_cpu)
    loads, loads_cpu = [], []
    ds = None
    for _ in range(rounds):
        ds = None  # the previous round's dataset is not kept alive through this one (peak memory)
        t1, c1 = time.perf_counter(), time.process_time()
        ds = load_dataset(params)
        loads.append(time.perf_counter() - t1)
        loads_cpu.append(time.process_time() - c1)
    t_load, c_load = min(loads), min(loads_cpu)
    return {"load_validate_s": round(t_load, 2), "plain_read_s": round(t_plain, 2),
            "load_ratio": round(t_load / t_plain, 1) if t_plain else None,
            "load_cpu_s": round(c_load, 2), "plain_read_cpu_s": round(c_plain, 2),
            "load_ratio_cpu": round(c_load / c_plain, 1) if c_plain else None}, ds


def measure(params_path: Path) -> dict:
    """Load + validate, then every report's computations; times and peak memory (this process)."""
    import tracemalloc  # noqa: F401 - maxrss is the figure reported; tracemalloc would slow pandas

    import importlib

    t0 = time.perf_counter()
    importlib.import_module("qa_lib.inputs.data")  # timed: what importing the loader costs
    from qa_lib.inputs.params import load_params

    params = load_params(params_path)
    t_import = time.perf_counter() - t0
    figures, ds = load_ratio(params)
    t_load = figures["load_validate_s"]
    t1 = time.perf_counter() - t_load
    reports = {}
    for report in params.reports:
        try:
            reports[report] = round(run_notebook_cells(report, params_path, params_path.parent / "out" / report, ds), 2)
        except Exception as exc:  # noqa: BLE001 - report it in the figures, do not hide it
            reports[report] = f"failed: {type(exc).__name__}: {str(exc)[:120]}"
    total = time.perf_counter() - t1
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"ratings": int(ds.read_counts.get("ratings", 0)), "audits": int(ds.read_counts.get("audits", 0)),
            "import_s": round(t_import, 2), **figures, "reports_s": reports,
            "total_s": round(total, 2), "peak_rss_mb": round(peak_mb)}


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "write":
        print(write_inputs(Path(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 100_000))
    elif cmd == "measure":
        print(json.dumps(measure(Path(sys.argv[2]))))
    elif cmd == "ratio":  # load + validation against the plain read only (no report computations)
        from qa_lib.inputs.params import load_params

        print(json.dumps(load_ratio(load_params(Path(sys.argv[2])))[0]))
