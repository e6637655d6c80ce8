"""Load every table of a run: read, map, validate, and derive the reporting columns.

``load_dataset(params)`` is the one entry point the notebooks call. It never raises for a data
problem (those become rows of ``dataset.issues``) unless the params say ``strict: true``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: the data cache then loads unlocked
    fcntl = None

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

import qa_lib
from qa_lib.core.atomic import atomic_to_csv, atomic_write_bytes
from qa_lib.core.errors import InputError
from qa_lib.inputs.feedback_checks import FeedbackSettings, check_feedback
from qa_lib.core.labels import key as label_key
from qa_lib.inputs import forms as _forms
from qa_lib.inputs.privacy import Redactor, pseudonymise_frame, pseudonymise_series, resolve_key
from qa_lib.inputs.grades import GradeScale
from qa_lib.inputs.io import (FREE_TEXT_COLUMNS, IDENTIFIER_COLUMNS, RawTable, arrow_text, melt_wide_ratings,
                              read_table)
from qa_lib.inputs.params import Params, TABLES
from qa_lib.inputs.periods import month_labels, period_labels
from qa_lib.inputs import validate as v


@dataclass
class Dataset:
    """The clean tables of one run, the issues found, and the rows set aside."""

    params: Params
    scale: GradeScale
    audits: pd.DataFrame
    ratings: pd.DataFrame
    allocations: pd.DataFrame
    feedback: pd.DataFrame
    actions: pd.DataFrame
    comments: pd.DataFrame
    issues: pd.DataFrame
    rejects: pd.DataFrame
    read_counts: dict[str, int] = field(default_factory=dict)
    #: performance indicators and their benchmarks (issue 9); empty when the params configure none
    indicators: pd.DataFrame = field(default_factory=pd.DataFrame)
    benchmarks: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: issue 17: free-text feedback answers (``survey, question, period, response_id, text``): quotes only
    feedback_text: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: every identifier value exactly as written in the inputs, kept in memory only (never written,
    #: never shown) so free text that quotes a real id can be redacted after pseudonymisation;
    #: ``None`` in a dataset taken from the batch's data cache (see :func:`identifier_values_as_written`)
    raw_identifiers: frozenset[str] | None = field(default_factory=frozenset, repr=False)
    #: derived tables computed once per run (see qa_lib.sections.tables.moderation_pairs); never written
    cache: dict = field(default_factory=dict, repr=False, compare=False)
    #: issue 16: thematic, external and other non-programme audits (audits column ``audit_type``) and their
    #: ratings, set aside at load so that no report pools them with the monthly programme unless params
    #: ``pool_audit_types`` names their type (the highlight report shows them in their own section)
    other_audits: pd.DataFrame = field(default_factory=pd.DataFrame)
    other_ratings: pd.DataFrame = field(default_factory=pd.DataFrame)

    def __getstate__(self) -> dict:
        """What the batch's data cache keeps: never an identifier as written (the set is dropped and
        free text is stored redacted, as every report shows it: :data:`CACHE_REDACTED_COLUMNS` of every
        frame, by :func:`redactor`), nor derived tables."""
        state = dict(self.__dict__)
        redact = redactor(self)
        for name, frame in state.items():
            if not isinstance(frame, pd.DataFrame):
                continue
            text = [c for c in frame.columns if str(c).lower() in CACHE_REDACTED_COLUMNS
                    and (pd.api.types.is_string_dtype(frame[c]) or frame[c].dtype == object)]
            if text:
                state[name] = frame.assign(**{c: redact_series(frame[c], redact) for c in text})
        state["raw_identifiers"] = None
        state["cache"] = {}
        return state

    @property
    def period(self):
        return self.params.period

    @property
    def domains(self) -> list[str]:
        """Practice domains in report order (params ``domains`` first, then as they appear), without Overall."""
        listed = [d for d in self.params.domains if d != "Overall"]
        seen = [d for d in self.ratings["domain"].dropna().unique().tolist() if d != "Overall" and d not in listed]
        return listed + seen

    def rejected_summary(self) -> pd.DataFrame:
        """Rows set aside per table and reason (rule), with one example message each."""
        rej = self.issues[self.issues["severity"] == "rejected"]
        if rej.empty:
            return pd.DataFrame(columns=["table", "rule", "rows", "example"])
        rows = rej.assign(rows=rej.get("n_rows", pd.Series(pd.NA, index=rej.index)).fillna(1).astype(int))
        out = rows.groupby(["table", "rule"], sort=True).agg(rows=("rows", "sum"), example=("message", "first"))
        return out.reset_index()

    def write_rejects(self, path: Path) -> Path:
        """Write the issues table (every finding with file, row, column and reason) as CSV.

        A working file for fixing the inputs, never part of a published pack: reports write it to
        :func:`rejects_path`, outside the output folder. It locates each problem by file, row and
        column and describes the value; it never holds free text or an identifier.
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            path.parent.chmod(0o700)
        atomic_to_csv(self.issues.drop(columns=[c for c in ("n_rows",) if c in self.issues.columns]), path, index=False)
        return path


#: Lower-case column names whose text is free text (or may quote it): redacted in the batch's data cache.
CACHE_REDACTED_COLUMNS = frozenset(FREE_TEXT_COLUMNS) | {"reason", "message", "value"}
#: The private working folder beside the output folder (``<output_dir>/../qa-working/<period>/``).
WORKING_FOLDER = "qa-working"


def working_dir(params: Params) -> Path:
    """``qa-working/<period>/`` beside the output root: working files (the rejects file) that are
    never published, never copied into ``outputs/`` and never listed in a manifest."""
    return params.output_root.parent / WORKING_FOLDER / params.period.slug


def rejects_path(params: Params) -> Path:
    """Where a run's rejects file is written: ``qa-working/<period>/rejects.csv`` (see :func:`working_dir`)."""
    return working_dir(params) / "rejects.csv"


def redactor(ds: Dataset) -> Redactor:
    """The run's :class:`~qa_lib.inputs.privacy.Redactor`: every identifier value as written in the inputs
    (free text was typed before pseudonymisation, so the pseudonyms cannot be in it), the params'
    ``redact_terms`` and the first-name dictionary. Built once per dataset."""
    if "redactor" not in ds.cache:
        ds.cache["redactor"] = Redactor(identifier_values_as_written(ds),
                                        terms=ds.params.redact_terms)
    return ds.cache["redactor"]


def redact_series(values: pd.Series, redact: Redactor) -> pd.Series:
    """``values`` with every text redacted, each distinct text once; blanks and the dtype kept."""
    present = values.dropna()
    if present.empty:
        return values
    done = {v: redact(v) for v in pd.unique(present.to_numpy())}
    return values.map(done, na_action="ignore").astype(values.dtype)


def _read(params: Params, table: str) -> RawTable:
    files = params.files(table)
    columns = (params.columns or {}).get(table) or {}
    delimiter = params.delimiter
    options = {"date_format": params.date_format, "placeholder_dates": params.placeholder_dates}
    if table == "ratings" and params.ratings_format == "wide":
        raw = read_table("ratings", files, columns=columns, required=("audit_id",), keep_extra=True, delimiter=delimiter)
        raw.options = options
        wide = params.ratings_wide or {}
        return melt_wide_ratings(raw, domains=wide.get("domains") or {}, role=wide.get("role") or "auditor")
    raw = read_table(table, files, columns=columns, delimiter=delimiter)
    raw.options = options
    return raw


def _identifier_array(raws: dict[str, RawTable]) -> pa.Array:
    """Every distinct identifier value of ``raws`` as written (values are stripped at read), blanks left
    out, as one Arrow string array: one C++ pass over each identifier column, no Python object per cell."""
    parts = [pc.unique(arrow_text(raw.frame[col])) for raw in raws.values() for col in raw.frame.columns
             if col in IDENTIFIER_COLUMNS]
    if not parts:
        return pa.array([], type=pa.large_string())
    ids = pc.unique(pa.concat_arrays(parts)).drop_null()
    return ids.filter(pc.not_equal(ids, ""))


def _identifiers(raws: dict[str, RawTable]) -> set[str]:
    return set(_identifier_array(raws).to_pylist())


#: a feedback question counts as free text when none of its answers is an option and they average this many words
FREE_TEXT_MIN_WORDS = 4


def split_free_text(feedback: pd.DataFrame, params: Params) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Issue 17: set the free-text questions' answers apart from the option answers.

    Declared questions (params ``feedback.free_text``) and detected ones (no answer is one of the
    survey's options or aliases, and the answers average at least :data:`FREE_TEXT_MIN_WORDS` words;
    a warning says to declare them) leave the counted table. Returns ``(counted, text, issues)``;
    ``text`` has ``survey, question, period, response_id, text``.
    """
    cols = ["survey", "question", "period", "response_id", "text"]
    if feedback.empty:
        return feedback, pd.DataFrame({c: pd.Series(dtype="string") for c in cols}), v.empty_issues()
    cfg = FeedbackSettings.from_params(params)
    declared = {label_key(q) for q in ((params.feedback or {}).get("free_text") or [])}
    qkey = feedback["question"].map(label_key)
    is_text = qkey.isin(declared)
    warnings = []
    for (survey, question), g in feedback[~is_text].groupby(["survey", "question"], sort=False):
        options = {label_key(o) for o in cfg.options(survey)} | {label_key(k) for k in cfg.answer_aliases}
        answers = g["answer"].dropna().astype(str)
        if answers.empty or answers.map(label_key).isin(options).any():
            continue
        if answers.str.split().str.len().mean() >= FREE_TEXT_MIN_WORDS:
            is_text |= (feedback["survey"] == survey) & (feedback["question"] == question)
            first = g.iloc[0]
            warnings.append(dict(table="feedback", rule="free_text_detected", severity="warning",
                                 message=(f"{first['_file']} row {first['_row']}, column answer: the answers to '{question}' "
                                          "are free text, not answer options; they are shown only as redacted quotes in "
                                          "internal reports. Fix: declare the question under params feedback.free_text"),
                                 file=first["_file"], row=int(first["_row"]), column="answer", value=pd.NA))
    text = feedback[is_text]
    text = pd.DataFrame({"survey": text["survey"], "question": text["question"], "period": text["period"],
                         "response_id": text["response_id"], "text": text["answer"]}).reset_index(drop=True)
    issues = pd.DataFrame(warnings).reindex(columns=v.ISSUE_COLUMNS) if warnings else v.empty_issues()
    return feedback[~is_text].reset_index(drop=True), text[text["text"].notna()], issues


def input_redactor(params: Params) -> Redactor:
    """A :class:`~qa_lib.inputs.privacy.Redactor` for text produced outside a loaded dataset (a failed
    notebook, an error message in a stamp): the inputs' identifiers as written, read again from the
    files, the params' ``redact_terms`` and the first-name dictionary. Files that cannot be read add
    no identifiers (the dictionary and terms still apply)."""
    raws = {}
    for t in TABLES:
        try:
            raws[t] = _read(params, t)
        except Exception:  # noqa: BLE001 - an unreadable file is reported elsewhere; redact what can be read
            continue
    form_ids: set[str] = set()
    if len(raws) == len(TABLES):
        try:  # issue 17: the forms exports' Email, Name, IDs and plan references
            form_ids = _with_forms(params, raws, GradeScale.from_params(params.grades, params.grade_aliases,
                                                                        params.good_or_better), None)
        except Exception:  # noqa: BLE001 - as above
            form_ids = set()
    return Redactor(_identifiers(raws) | form_ids, terms=params.redact_terms)


def identifier_values_as_written(ds: Dataset) -> frozenset[str]:
    """The identifier values of ``ds``'s inputs exactly as written: from memory, or (for a dataset
    taken from the batch's data cache, which never holds them) read again from the input files."""
    if ds.raw_identifiers is None:
        raws = {t: _read(ds.params, t) for t in TABLES}
        ds.raw_identifiers = frozenset(_identifiers(raws) | _with_forms(ds.params, raws, ds.scale, None))
    return ds.raw_identifiers


def attach(left: pd.DataFrame, right: pd.DataFrame, *, on: str) -> pd.DataFrame:
    """``left.merge(right, on=on, how="left")`` (the same frame: left's rows in order, then right's other
    columns, NA where no match), by integer positions from Arrow's hash kernel (``index_in``) when
    ``right``'s keys are unique and no column name clashes; else by ``merge`` itself."""
    others = [c for c in right.columns if c != on]
    keys = right[on]
    if set(others) & set(left.columns) or keys.isna().any() or not keys.is_unique:
        return left.merge(right, on=on, how="left")
    pos = pc.index_in(arrow_text(left[on]), value_set=arrow_text(keys))
    if pos.null_count:
        return left.merge(right, on=on, how="left")
    picked = right[others].take(pos.to_numpy(zero_copy_only=False)).reset_index(drop=True)
    return pd.concat([left.reset_index(drop=True), picked], axis=1)


def _with_forms(params: Params, raws: dict[str, RawTable], scale: GradeScale, key) -> set[str]:
    """Issue 17: add the audits, ratings and comments derived from forms exports (params ``forms``)
    to ``raws``; return the identifier values the exports hold (Email, Name, IDs, plan references)."""
    files = params.files("forms")
    if not files:
        return set()
    derived, ids = _forms.read_forms(params, files, list(scale.grades))
    if key is not None:  # the plan reference is a case reference: the audit id is its keyed pseudonym
        for table in ("audits", "ratings", "comments"):
            f = derived[table].frame
            f["audit_id"] = pseudonymise_series(f["audit_id"], family="case", prefix="PLAN", key=key)
    for table, raw in derived.items():
        raws[table] = _forms.merge_raw(raws[table], raw)
    return ids


def load_dataset(params: Params) -> Dataset:
    """Read and validate every configured table.

    Parameters
    ----------
    params : Params

    Returns
    -------
    Dataset
        Clean tables with derived columns: audits gain ``period`` (quarter or month label of the
        audit date) and ``month``; ratings gain the audit's ``period``, ``service_area``, ``team``,
        ``cohort`` and ``auditor_id``.

    Raises
    ------
    InputError
        Only when ``strict: true`` and any row was rejected; the message lists every finding.
    """
    scale = GradeScale.from_params(params.grades, params.grade_aliases, params.good_or_better)
    raws = {t: _read(params, t) for t in TABLES}
    # issue 8: case, child, practitioner, auditor and moderator ids become keyed pseudonyms at once
    key = resolve_key(params)
    form_ids = _with_forms(params, raws, scale, key)  # issue 17: MS Forms / Google Forms exports
    id_array = _identifier_array(raws)
    if form_ids:
        id_array = pa.concat_arrays([id_array.cast(pa.large_string()),
                                     pa.array(sorted(form_ids), type=pa.large_string())])
    raw_ids = frozenset(id_array.to_pylist())
    for raw in raws.values():
        raw.frame = pseudonymise_frame(raw.frame, key)
    audits, i1, r1 = v.validate_audits(raws["audits"])
    ratings, i2, r2 = v.validate_ratings(raws["ratings"], scale=scale, audit_ids=audits["audit_id"])
    allocations, i3, r3 = v.validate_allocations(raws["allocations"])
    feedback, i4, r4 = v.validate_feedback(raws["feedback"])
    actions, i5, r5 = v.validate_actions(raws["actions"], audit_ids=audits["audit_id"],
                                           due_weeks=params.action_due_weeks)
    comments, i6, r6 = v.validate_comments(raws["comments"], audit_ids=audits["audit_id"])
    issues = pd.concat([i for i in (i1, i2, i3, i4, i5, i6) if len(i)], ignore_index=True) \
        if any(len(i) for i in (i1, i2, i3, i4, i5, i6)) else v.empty_issues()
    rejects = pd.concat([r1, r2, r3, r4, r5, r6], ignore_index=True)

    kind = params.period.kind
    audits = audits.assign(period=period_labels(audits["audit_date"], kind), month=month_labels(audits["audit_date"]))
    attrs = [c for c in ("audit_id", "period", "month", "service_area", "team", "cohort", "auditor_id") if c in audits.columns]
    ratings = attach(ratings, audits[attrs].rename(columns={"auditor_id": "audit_auditor_id"}), on="audit_id")
    allocations = allocations.assign(period=period_labels(allocations["month"], kind), month_label=month_labels(allocations["month"]))
    feedback = feedback.assign(period=period_labels(feedback["response_date"], kind))
    feedback, feedback_text, text_issues = split_free_text(feedback, params)  # issue 17
    feedback, fb_issues = check_feedback(feedback, params)
    fb_issues = pd.concat([fb_issues, text_issues], ignore_index=True) if len(text_issues) else fb_issues
    if len(fb_issues):
        issues = pd.concat([issues, fb_issues], ignore_index=True) if len(issues) else fb_issues
    # issue 9: performance indicators and benchmarks (optional tables: empty frames when not configured)
    indicators, i7, r7 = v.validate_indicators(raws["indicators"])
    benchmarks, i8, r8 = v.validate_benchmarks(raws["benchmarks"], indicators=indicators)
    extra = [i for i in (i7, i8) if len(i)]
    if extra:
        issues = pd.concat([issues, *extra], ignore_index=True) if len(issues) else pd.concat(extra, ignore_index=True)
    rejects = pd.concat([rejects, r7, r8], ignore_index=True)
    ds = Dataset(params=params, scale=scale, audits=audits, ratings=ratings, allocations=allocations,
                 feedback=feedback, actions=actions, comments=comments, issues=issues, rejects=rejects,
                 read_counts={t: len(raws[t].frame) for t in TABLES},
                 indicators=indicators, benchmarks=benchmarks, raw_identifiers=raw_ids,
                 feedback_text=feedback_text)
    _set_aside_other_audit_types(ds)
    # issue 14: a non-participation reason is free text shown in a table: redacted like a quote
    if "reason" in allocations.columns and allocations["reason"].notna().any():
        reasons = pd.unique(allocations["reason"].dropna().to_numpy())
        redact = Redactor.for_texts(id_array, reasons, terms=params.redact_terms)
        ds.allocations = allocations.assign(reason=redact_series(allocations["reason"], redact))
    if params.strict and (issues["severity"] == "rejected").any():
        rej = issues[issues["severity"] == "rejected"]
        lines = "\n".join("  - " + m for m in rej["message"].head(50))
        more = f"\n  ... and {len(rej) - 50} more" if len(rej) > 50 else ""
        raise InputError(f"strict run stopped: {len(rej)} input problem(s) (params strict: true). "
                         f"Fix the inputs, or set strict: false to report with the rows set aside.\n{lines}{more}")
    return ds


#: the audit_type of the monthly programme (a blank audit_type counts as monthly)
PROGRAMME_AUDIT_TYPE = "monthly"


def audit_types(audits: pd.DataFrame) -> pd.Series:
    """Each audit's type, lower case; blank or no ``audit_type`` column = :data:`PROGRAMME_AUDIT_TYPE`."""
    t = audits["audit_type"] if "audit_type" in audits.columns else pd.Series(pd.NA, index=audits.index, dtype="string")
    t = t.astype("string").str.strip().str.lower()
    return t.fillna(PROGRAMME_AUDIT_TYPE).replace("", PROGRAMME_AUDIT_TYPE)


def _set_aside_other_audit_types(ds: Dataset) -> None:
    """Move audits whose type is neither the monthly programme nor in ``params.pool_audit_types`` (with their
    ratings and comments) out of ``ds.audits`` / ``ds.ratings`` / ``ds.comments`` into ``ds.other_audits`` /
    ``ds.other_ratings`` (issue 16: thematic and external audits are never pooled unless the params say so).
    Actions stay: an action raised from any audit is tracked."""
    if "audit_type" not in ds.audits.columns:
        return
    pooled = {PROGRAMME_AUDIT_TYPE} | {str(x).strip().lower() for x in ds.params.pool_audit_types}
    keep = audit_types(ds.audits).isin(pooled).to_numpy()
    if keep.all():
        return
    other = set(ds.audits.loc[~keep, "audit_id"])
    ds.other_audits, ds.audits = ds.audits[~keep], ds.audits[keep]
    in_other = ds.ratings["audit_id"].isin(other)
    ds.other_ratings, ds.ratings = ds.ratings[in_other], ds.ratings[~in_other]
    if len(ds.comments) and "audit_id" in ds.comments.columns:
        ds.comments = ds.comments[~ds.comments["audit_id"].isin(other)]


# -- the batch's data cache ----------------------------------------------------------------------
#: Set by :func:`qa_lib.running.batch.run_batch` to a private folder that lives as long as the batch run.
DATA_CACHE_ENV = "QA_WORKBOOK_DATA_CACHE"


def _private_folder(value: str | None) -> Path | None:
    """The cache folder when it is a directory of this user that nobody else can read or write."""
    if not value:
        return None
    folder = Path(value)
    try:
        st = folder.stat()
    except OSError:
        return None
    if not folder.is_dir() or (hasattr(os, "getuid") and st.st_uid != os.getuid()) or st.st_mode & 0o077:
        return None
    return folder


def load_dataset_cached(params: Params, *, inputs: dict[str, str]) -> Dataset:
    """:func:`load_dataset`, once per batch run for all the reports of one params file.

    Each report runs in its own kernel, so without this every report of a period reads and
    validates the same files again. Inside a batch (``DATA_CACHE_ENV`` names the run's private
    folder: mode 0700, removed when the run ends, never under ``outputs/``) the first report
    stores the validated, pseudonymised dataset and the others load it. The entry's name is a
    hash of the params (path and values), the input files' hashes (``inputs``, as in the
    provenance) and the qa_lib version, so a changed input or params file is a miss. The cache
    never holds the identifiers as written (:meth:`Dataset.__getstate__`). Outside a batch, or
    when the entry is unreadable, this is exactly :func:`load_dataset`.
    """
    folder = _private_folder(os.environ.get(DATA_CACHE_ENV))
    if folder is None:
        return load_dataset(params)

    material = json.dumps({"params_file": str(params.path.resolve()), "params": params.as_dict(), "inputs": inputs,
                           "qa_lib": qa_lib.__version__}, sort_keys=True, default=str)
    digest = hashlib.sha256(material.encode("utf-8")).hexdigest()
    entry = folder / f"{digest}.pickle"
    # one loader per entry: reports of the same params started at once wait for the first instead of
    # each validating the data again, and so share its pseudonyms even without a configured key
    with _exclusive(folder / f"{digest}.lock"):
        if entry.is_file():
            try:
                with open(entry, "rb") as fh:
                    cached = pickle.load(fh)  # written by this user's batch into a folder only it can write
                if isinstance(cached, Dataset):
                    return cached
            except Exception:  # noqa: BLE001 - a damaged entry is a miss, never a failed report
                pass
        ds = load_dataset(params)
        try:
            atomic_write_bytes(entry, pickle.dumps(ds, protocol=pickle.HIGHEST_PROTOCOL), mode=0o600)
        except OSError:  # a full disk costs the next report a reload, nothing more
            pass
        return ds


@contextlib.contextmanager
def _exclusive(path: Path):
    """Hold an exclusive lock on ``path`` (POSIX ``flock``; released by the OS if the holder dies).
    Where there is no ``fcntl`` the block runs unlocked: two reports may then each load the data."""
    if fcntl is None:  # pragma: no cover - Windows
        yield
        return
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def identifier_values(ds: Dataset) -> frozenset[str]:
    """Every identifier value of the run, as written in the input files and as loaded.

    The Dataset holds case, practitioner and auditor ids as keyed pseudonyms (:mod:`qa_lib.inputs.privacy`),
    but an id typed into free text is the real one: :func:`qa_lib.inputs.data.load_dataset` keeps the values
    as written (in memory only) in ``ds.raw_identifiers``.
    """
    ids = set(identifier_values_as_written(ds))
    for name in ("audits", "ratings", "allocations", "feedback", "actions", "comments"):
        frame = getattr(ds, name, None)
        if frame is None:
            continue
        for col in frame.columns:
            if col in IDENTIFIER_COLUMNS:
                ids.update(frame[col].dropna().astype("string").str.strip().unique().tolist())
    ids.discard("")
    return frozenset(ids)
