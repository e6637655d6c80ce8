"""Must show (issue 14): with realistic names in every id and free-text column, no file a run writes
holds an identifier as written.

The demo data is rewritten so that case ids look like ``CASE-ZX0001`` and auditor, moderator and
practitioner ids are multi-word names ("Jane Smith", "Tobias Vasquez-Thorne", "Siobhan O'Neill");
every old id typed into a comment becomes the new one, and comments, feedback answers and
non-participation reasons gain sentences with those names (possessives, curly apostrophes, ALL
CAPS, surname alone) and children's first names. The internal and the published demo are then
rendered with papermill through ``run_batch``, and every file written is scanned, case-insensitively
and as whole words, for every identifier and every part of a name: HTML, CSV, JSON, stamps,
manifest, the rejects working file, failed notebooks if any, and the batch's data cache, copied
while the run is in flight.
"""

from __future__ import annotations

import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest

from qa_lib.inputs.data import WORKING_FOLDER
from qa_lib.inputs.params import load_params
from qa_lib.running.demo import DEMO_DIR
from conftest import ROOT, demo_params_copy

FIRST = ["Jane", "Tobias", "Siobhan", "Priya", "Kwame", "Agnieszka", "Oluwaseun", "Declan", "Ifeoma", "Magdalena",
         "Rhiannon", "Thaddeus", "Ngozi", "Bartholomew", "Perpetua", "Eilidh", "Caoimhe", "Anoushka", "Dmitri",
         "Bronwen"]
LAST = ["Smith", "Vasquez-Thorne", "O'Neill", "Okonkwo", "Kowalczyk", "Ramanathan", "MacGillivray",
        "Fitzgerald-Hughes", "Adeyemi-Okafor", "Szymanski", "Abernethy", "Castellanos"]
CHILDREN = ["Grace", "Oliver", "Amelia", "Isla", "Freddie", "Poppy"]


def _names():
    for last in LAST:
        for first in FIRST:
            yield f"{first} {last}"


def write_named_demo(folder: Path) -> dict[str, str]:
    """Copy the demo data into ``folder`` with names for ids and names in free text; returns old id -> new."""
    rng = random.Random(14)
    folder.mkdir(parents=True, exist_ok=True)
    frames = {p.stem: pd.read_csv(p, dtype=str, keep_default_na=False) for p in DEMO_DIR.glob("*.csv")}
    audits, ratings, allocations = frames["audits"], frames["ratings"], frames["allocations"]
    raters = sorted(set(audits["auditor_id"]) | set(ratings["rater_id"]))
    pracs = sorted((set(audits["practitioner_id"]) | set(allocations["practitioner_id"])) - {""})
    names = _names()
    mapping = {old: next(names) for old in raters}
    mapping.update({old: next(names) for old in pracs})
    cases = sorted(set(audits["case_id"]))
    mapping.update({old: f"CASE-ZX{i + 1:04d}" for i, old in enumerate(cases)})
    for frame, cols in ((audits, ["case_id", "auditor_id", "practitioner_id"]), (ratings, ["rater_id"]),
                        (allocations, ["practitioner_id"])):
        for c in cols:
            frame[c] = frame[c].map(lambda v: mapping.get(v, v))
    by_audit = audits.set_index("audit_id")
    old_ids = re.compile(r"\b(" + "|".join(map(re.escape, sorted(mapping, key=len, reverse=True))) + r")\b")

    def comment(row) -> str:
        text = old_ids.sub(lambda m: mapping[m.group(1)], row["text"])
        a = by_audit.loc[row["audit_id"]]
        aud, prac, case, child = a["auditor_id"], a["practitioner_id"] or a["auditor_id"], a["case_id"], rng.choice(CHILDREN)
        last = prac.split(" ", 1)[1]
        extra = rng.choice([f" {prac}'s work with {child} was discussed with {aud} ({case}).",
                            f" {last.replace(chr(39), '’')}’s visits to {child} are regular; see {case.lower()}.",
                            f" {aud.upper()} AGREED THE PLAN FOR {child.upper()}.",
                            f" {child}’s voice is clear. {prac.split()[0]} recorded it; {last} to review."])
        return text + extra
    comments = frames["comments"]
    comments["text"] = [comment(r) for _, r in comments.iterrows()]
    feedback = frames["feedback"]
    prac_names = [mapping[p] for p in pracs]
    for i in rng.sample(range(len(feedback)), 40):
        child, prac = rng.choice(CHILDREN), rng.choice(prac_names)
        feedback.loc[i, "answer"] = rng.choice([f"{child}'s worker {prac} was lovely",
                                                f"{prac.split()[1]} listened to {child}", f"Ask {prac}"])
    took = allocations.index[allocations["practitioner_took_part"] == "No"]
    for i in rng.sample(list(took), min(30, len(took))):
        allocations.loc[i, "reason"] = f"{rng.choice(prac_names)} on leave, covered by {rng.choice(prac_names)}"
    for name, frame in frames.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    return mapping


def needles(mapping: dict[str, str]) -> set[str]:
    """Every identifier as written, each part of a name, and the children's first names."""
    out = set(mapping.values()) | set(CHILDREN)
    for value in mapping.values():
        if value.startswith("CASE-"):
            out.add(value.split("-", 1)[1])
            continue
        for part in re.split(r"[\s]+", value):
            out.add(part)
            out.update(p for p in re.split(r"[-']", part) if len(p) >= 3)
    return out


_WORD = re.compile(r"[^\W_]+")


def scan(blobs: dict[str, bytes], words: set[str]) -> dict[str, list[str]]:
    """Which needles each blob holds, case-insensitively and as whole words. A needle is found through
    its words (three or more letters, or with a digit) and its letters joined (``ONeill``): every
    needle has one, so every written form of it is found. Set look-ups, fast on a cache entry of
    several megabytes."""
    index: dict[str, set[str]] = {}
    for needle in words:
        pieces = [w.lower() for w in _WORD.findall(needle)]
        keys = {w for w in pieces if (len(w) >= 3 or any(c.isdigit() for c in w)) and w != "case"}
        keys.add("".join(pieces))
        keys.discard("case")
        for k in keys:
            index.setdefault(k, set()).add(needle)
    found = {}
    for name, blob in blobs.items():
        text = blob.decode("utf-8", errors="replace").lower()
        seen = set(_WORD.findall(text)) & index.keys()
        if seen:
            found[name] = sorted(seen)[:6]
    return found


WATCH = """
import shutil, sys, time
from pathlib import Path
temp, dest, stop = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
while not stop.exists():
    for f in temp.glob("qa-workbook-data-*/*"):
        try:
            shutil.copyfile(f, dest / f"{f.parent.name}-{f.name}")
        except OSError:
            pass
    time.sleep(0.05)
"""


class CacheWatcher:
    """Copies every data-cache entry of the batch while it runs (the batch removes the folder at the
    end). A separate process, not a thread: the batch forks its workers, and forking with a second
    thread running can deadlock."""

    def __init__(self, temp: Path):
        self.temp, self.dest, self.stop = temp, temp.parent / "cache-copies", temp.parent / "cache-stop"
        self.dest.mkdir()
        self.blobs: dict[str, bytes] = {}

    def __enter__(self):
        self.proc = subprocess.Popen([sys.executable, "-c", WATCH, str(self.temp), str(self.dest), str(self.stop)])
        return self

    def __exit__(self, *exc):
        self.stop.touch()
        self.proc.wait(timeout=30)
        self.blobs = {f"cache/{f.name}": f.read_bytes() for f in self.dest.iterdir()}


def test_scan_finds_a_planted_name_in_any_form():
    words = needles({"P1": "Siobhan O'Neill", "C1": "CASE-ZX0001"})
    assert scan({"a.html": "<td>SIOBHAN O’NEILL</td>".encode()}, words) == {"a.html": ["neill", "siobhan"]}
    assert scan({"b.csv": b"neill's plan"}, words) == {"b.csv": ["neill"]}
    assert scan({"c.json": b"zx0001"}, words) == {"c.json": ["zx0001"]}
    assert scan({"c2.json": b"ONeill"}, words) == {"c2.json": ["oneill"]}
    assert scan({"d.txt": b"grace period? no: Graceful"}, words) == {"d.txt": ["grace"]}
    assert scan({"e.txt": b"[redacted]'s plan, the case"}, words) == {}


@pytest.mark.slow
@pytest.mark.parametrize("source", ["demo.yaml", "demo-published.yaml"])
def test_no_identifier_as_written_in_any_file_a_run_writes(source, tmp_path, monkeypatch):
    from qa_lib.running.batch import run_batch

    mapping = write_named_demo(tmp_path / "data")
    words = needles(mapping)
    assert len(mapping) > 300 and {"Jane Smith", "Tobias Vasquez-Thorne", "Siobhan O'Neill"} <= set(mapping.values())
    data = {t: str(tmp_path / "data" / f"{t}.csv") for t in
            ("audits", "ratings", "allocations", "feedback", "actions", "comments", "indicators", "benchmarks")}
    key = tmp_path / "pseudonym.key"
    key.write_text("test-only-key-for-the-names-test-0123", encoding="utf-8")
    params_path = demo_params_copy(tmp_path / "run", source=ROOT / "params" / source, data=data,
                                   pseudonym_key_file=str(key))
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    with CacheWatcher(temp) as watcher:
        results = run_batch([params_path], force=True, progress=False)
    assert [r.status for r in results] == ["ok"] * len(results) and len(results) >= 4, \
        [(r.report, r.error) for r in results]
    params = load_params(params_path)
    root = params.output_root.parent
    written = [f for f in root.rglob("*") if f.is_file() and f != params_path]
    blobs = {str(f.relative_to(root)): f.read_bytes() for f in written}
    blobs.update(watcher.blobs)
    # the run wrote what it should, and the scan covers it
    names = set(blobs)
    assert any(n.endswith(".html") for n in names) and any(n.endswith("manifest.json") for n in names)
    assert any(".stamp.json" in n for n in names) and sum(n.endswith(".csv") for n in names) >= 10
    assert any(n.startswith("cache/") and n.endswith(".pickle") for n in names), "the cache was not seen in flight"
    rejects = [n for n in names if n.endswith("rejects.csv")]
    assert rejects and all(n.startswith(WORKING_FOLDER + "/") for n in rejects)  # outside the published folder
    assert not any(n.endswith("rejects.csv") for n in names if n.startswith(params.output_dir.relative_to(root).as_posix()))
    assert not scan(blobs, words)
    # the names really were in the inputs, so the zero above means something
    raw = {f.name: f.read_bytes() for f in (tmp_path / "data").glob("*.csv")}
    hits = scan(raw, words)
    assert {"comments.csv", "feedback.csv", "allocations.csv", "audits.csv", "ratings.csv"} <= set(hits)
    shutil.rmtree(temp, ignore_errors=True)
