"""Strengths and learning themes in auditors' free-text comments, and redacted example quotes.

Each theme is a list of keywords or regular expressions (case-insensitive) in params ``themes``
(default :data:`DEFAULT_THEMES`); a comment counts once for each theme it matches. Counts are
by kind (strength / learning), domain and period of the audit.

Quotes appear only in internal reports, and only after redaction by the run's
:func:`qa_lib.inputs.data.redactor`: every identifier of the run (as written in the input files and
as pseudonymised) in any case, spacing, hyphen or apostrophe form and with possessives, each part
of a person's name, capitalised first names from the dictionary, the params' ``redact_terms``,
e-mail addresses and runs of six or more digits become ``[redacted]`` (issue 14). The report
renders them escaped through ``rpt.table``.
"""

from __future__ import annotations

import re
from typing import Mapping

import pandas as pd

from qa_lib.inputs.data import Dataset
from qa_lib.inputs.params import check_themes
from qa_lib.inputs.data import identifier_values, identifier_values_as_written  # noqa: F401 - identifier_values re-exported
from qa_lib.inputs.privacy import REDACTED, Redactor, redact  # noqa: F401 - REDACTED, redact re-exported: qa_lib.themes.redact
from qa_lib.sections.tables import periods_shown

DEFAULT_THEMES: dict[str, list[str]] = {
    "Chronology": [r"chronolog"],
    "Genogram": [r"genogram"],
    "Voice of the child": [r"voice of the child", r"wishes and feelings", r"lived experience", r"seen alone"],
    "Supervision": [r"supervision"],
    "Drift and delay": [r"\bdrift", r"\bdelay"],
    "SMART outcomes": [r"\bSMART\b", r"outcomes are specific"],
    "Management oversight": [r"management oversight", r"management direction"],
    "Multi-agency working": [r"multi-agency", r"partners?\b", r"\bschool\b", r"\bhealth\b"],
    "Direct work": [r"direct work"],
    "Recording": [r"recording", r"case summary"],
}
QUOTES_EMPTY = ("No quotes shown: quotes appear only in internal reports (never in published ones), "
                "after redaction, and none this period matched a theme.")


def compile_themes(themes: Mapping[str, list[str]] | None) -> dict[str, re.Pattern]:
    """One case-insensitive pattern per theme (its keywords joined with ``|``).

    Raises
    ------
    ParamsError
        A theme whose keywords are not a list of text, or a keyword that is not a valid regular expression.
    """
    themes = DEFAULT_THEMES if not themes else themes
    check_themes(themes, "params themes")  # the check load_params makes: one rule for both
    return {str(name): re.compile("|".join(f"(?:{w})" for w in ([words] if isinstance(words, str) else words)),
                                  re.IGNORECASE) for name, words in themes.items()}


def _comments(ds: Dataset) -> pd.DataFrame:
    c = ds.comments
    ctx = [x for x in ("audit_id", "period", "service_area") if x in ds.audits.columns]
    return c.merge(ds.audits[ctx], on="audit_id", how="left")


def tagged(ds: Dataset) -> pd.DataFrame:
    """Comments of the shown periods, one row per (comment, matched theme); unmatched comments get theme NA."""
    themes = compile_themes(ds.params.themes)
    c = _comments(ds)
    c = c[c["period"].isin(periods_shown(ds))].reset_index(drop=True)
    text = c["text"].fillna("").astype(str)
    hits = pd.DataFrame({name: text.str.contains(pat, regex=True) for name, pat in themes.items()}, index=c.index)
    long = hits.stack()
    long = long[long]
    out = c.loc[long.index.get_level_values(0)].assign(theme=long.index.get_level_values(1).to_numpy()).reset_index(drop=True)
    none = c[~hits.any(axis=1)].assign(theme=pd.NA) if len(hits.columns) else c.assign(theme=pd.NA)
    return pd.concat([out, none], ignore_index=True)


def counts_by_period(ds: Dataset) -> pd.DataFrame:
    """Comments mentioning each theme, by kind and period: rows (theme, kind), one column per shown period.

    Themes in taxonomy order; a row for comments matching no theme (``No theme matched``) keeps the
    table honest about what the taxonomy misses.
    """
    t = tagged(ds)
    periods = periods_shown(ds)
    names = list(compile_themes(ds.params.themes))
    if t.empty:
        return pd.DataFrame()
    t = t.assign(theme=t["theme"].fillna("No theme matched"))
    idx = pd.MultiIndex.from_product([[*names, "No theme matched"], ["strength", "learning"]], names=["theme", "kind"])
    out = t.groupby(["theme", "kind", "period"]).size().unstack("period").reindex(index=idx, columns=periods).fillna(0).astype("int64")
    out.columns.name = None
    return out[out.sum(axis=1) > 0]


def by_domain(ds: Dataset) -> pd.DataFrame:
    """Strength and learning comments per practice domain this period, with the most frequent theme of each."""
    t = tagged(ds)
    t = t[t["period"] == ds.period.label]
    if t.empty:
        return pd.DataFrame()
    comments = t.drop_duplicates(subset=["audit_id", "domain", "kind", "text"])
    counts = pd.crosstab(comments["domain"], comments["kind"]).reindex(columns=["strength", "learning"], fill_value=0)
    top = {}
    for kind in ("strength", "learning"):
        k = t[(t["kind"] == kind) & t["theme"].notna()]
        top[f"top_{kind}_theme"] = k.groupby("domain")["theme"].agg(lambda s: s.value_counts().index[0])
    out = counts.join(pd.DataFrame(top))
    order = [d for d in ds.domains if d in out.index] + [d for d in out.index if d not in ds.domains]
    out = out.reindex(order)
    out.columns = ["strengths", "learning", "most frequent strength theme", "most frequent learning theme"]
    return out


def example_quotes(ds: Dataset, *, per_theme: int = 1) -> pd.DataFrame:
    """Up to ``per_theme`` redacted quotes per theme and kind for this period — internal reports only.

    Returns an empty frame when the params say ``audience: published``. Columns ``theme``,
    ``kind``, ``domain``, ``quote`` (no identifiers: the text is redacted and no id column is kept).
    """
    if ds.params.audience == "published":
        return pd.DataFrame()
    t = tagged(ds)
    t = t[(t["period"] == ds.period.label) & t["theme"].notna()]
    if t.empty:
        return pd.DataFrame()
    names = list(compile_themes(ds.params.themes))
    t = t.assign(theme=pd.Categorical(t["theme"], categories=names, ordered=True),
                 kind=pd.Categorical(t["kind"], categories=["strength", "learning"], ordered=True))
    t = t.sort_values(["theme", "kind", "domain", "text"], kind="stable").drop_duplicates(["theme", "kind", "text"])
    t = t.groupby(["theme", "kind"], observed=True, sort=True).head(per_theme)
    redactor = Redactor.for_texts(identifier_values_as_written(ds), t["text"].dropna().unique(),
                                  terms=ds.params.redact_terms)
    return pd.DataFrame({"theme": t["theme"].astype(str), "kind": t["kind"].astype(str), "domain": t["domain"],
                         "quote": [redactor(x) for x in t["text"]]}).reset_index(drop=True)
