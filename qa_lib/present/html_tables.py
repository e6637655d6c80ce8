"""Presentation: turn full-precision tables into what a reader sees (and what the CSV holds).

Rounding and percentages happen only here. Column names are humanised through one mapping so
every report says the same thing the same way.
"""

from __future__ import annotations

import html
import math
from typing import Sequence

import numpy as np
import pandas as pd

from qa_lib.core import fmt

LABELS = {
    "n": "Audits (n)", "good_or_better": "Good or better", "good_or_better_share": "% Good or better",
    "audits": "Audits", "moderated": "Moderated", "moderated_share": "% moderated",
    "allocated": "Allocated", "returned": "Returned", "not returned": "Not returned", "exempt": "Exempt",
    "return_rate": "Return rate", "target": "Target", "met_target": "Target met",
    "recorded": "Participation recorded", "took_part": "Took part", "participation_rate": "Participation rate",
    "practitioners": "Practitioners", "share": "Share", "period": "Period", "month": "Month",
    "month_label": "Month", "service_area": "Service area", "domain": "Domain", "cohort": "Cohort",
    "team": "Team", "reason": "Reason", "outcome": "Outcome", "table": "Table", "rule": "Reason",
    "rows": "Rows set aside", "example": "Example message",
    # qa_lib.sections.change: intervals and tested changes
    "good_or_better_low_share": "% Good or better: 95% range from", "good_or_better_high_share": "% Good or better: 95% range to",
    "good_or_better_summary": "Good or better (n, %, likely range)", "small_n": "Fewer than min. audits",
    "return_rate_low_share": "Return rate: 95% range from", "return_rate_high_share": "Return rate: 95% range to",
    "return_rate_summary": "Returned (n, %, likely range)", "this_period": "This period",
    "previous_period": "Previous period", "difference": "Difference (points, likely range)",
    "p_value": "p", "q_value": "q (adjusted)", "change_label": "Change", "measure": "Measure",
    "statistic": "Statistic", "periods": "Periods",
}
# qa_lib.sections.reliability: agreement coefficients and tests, each estimate with "<name>_ci_low"/"_ci_high"
for _key, _text in {"kappa": "Kappa", "kappa_linear": "Weighted kappa (linear)",
                    "kappa_quadratic": "Weighted kappa (quadratic)", "ac1": "AC1", "ac2_quadratic": "AC2 (quadratic)",
                    "fleiss_kappa": "Fleiss kappa", "alpha_ordinal": "Krippendorff alpha (ordinal)",
                    "mean_difference": "Mean grade change (moderator − auditor)"}.items():
    LABELS.update({_key: _text, f"{_key}_ci_low": f"{_text}: 95% CI from", f"{_key}_ci_high": f"{_text}: 95% CI to"})
LABELS.update({
    "agreement_share": "% same grade", "agreement_low_share": "% same grade: 95% CI from",
    "agreement_high_share": "% same grade: 95% CI to", "net_downgraded_share": "% downgraded − % upgraded",
    "n_downgraded": "Downgraded", "n_upgraded": "Upgraded", "note": "Note", "direction": "Direction",
    "stuart_maxwell": "Stuart–Maxwell X²", "stuart_maxwell_df": "Stuart–Maxwell df", "stuart_maxwell_p": "Stuart–Maxwell p",
    "stuart_maxwell_q": "Stuart–Maxwell q (BH)", "bowker": "Bowker X²", "bowker_df": "Bowker df", "bowker_p": "Bowker p",
    "bowker_q": "Bowker q (BH)", "bowker_full_df_p": "Bowker p (full df)",
    "bowker_exact_p": "Bowker p (exact)", "stuart_maxwell_exact_p": "Stuart–Maxwell p (exact)", "mcnemar_p": "McNemar p (exact)", "mcnemar_q": "McNemar q (BH)",
    "p_o": "Observed agreement", "p_e": "Chance agreement (kappa)", "ac1_p_e": "Chance agreement (AC1)",
    "most_common_grade": "Most common grade", "skewed": "One grade ≥ 50%", "raters": "Raters per case file (max)",
    # issue 19: per-auditor bias, agreement compared with the previous period, sample planning
    "calibrate": "Calibration", "previous_n": "n (previous period)", "previous_ac1": "AC1 (previous period)",
    "ac1_difference": "AC1 difference (this − previous)", "ac1_difference_ci_low": "AC1 difference: 95% CI from",
    "ac1_difference_ci_high": "AC1 difference: 95% CI to", "differs": "Difference", "z": "z",
    "audits": "Audits this period (N)", "ac1_se": "AC1 SE",
    "ac1_others": "AC1 (other domains, mean)", "ac1_rest": "AC1 (other areas)", "rest_n": "n (other areas)",
    "ac1_vs_others": "AC1 difference (this − others)", "ac1_vs_others_ci_low": "AC1 difference: 95% CI from",
    "ac1_vs_others_ci_high": "AC1 difference: 95% CI to", "t": "t",
    "shift": "Shift (latent scale)", "shift_ci_low": "Shift: 95% CI from", "shift_ci_high": "Shift: 95% CI to",
    **{f"{m}_n_{h:g}": f"{t} ± {h:g}: case files" for m, t in (("ac1", "AC1"), ("kappa_quadratic", "Weighted kappa"))
       for h in (0.1, 0.15, 0.2)},
})
LABELS.update({
    "ci_low": "95% CI from", "ci_high": "95% CI to", "diff_ci_low": "Difference: 95% CI from",
    "diff_ci_high": "Difference: 95% CI to", "pvalue": "p", "qvalue": "q (adjusted)", "positive": "Positive",
    "answered": "Answered", "not_applicable": "Not applicable",
})
SHARE_SUFFIXES = ("_share", "_rate", "share", "target")


def label(name: object) -> str:
    """Human column label (``good_or_better_share`` → ``% Good or better``)."""
    text = str(name)
    return LABELS.get(text, text[:1].upper() + text[1:].replace("_", " ") if text.islower() else text)


def is_share(column: object) -> bool:
    return str(column).endswith(SHARE_SUFFIXES)


def pct(x: float, digits: int = 0) -> str:
    """``0.625`` → ``63%`` (half up, :func:`qa_lib.core.fmt.pct`); ``–`` for missing."""
    return fmt.pct(x, digits)


#: Agreement coefficients and their chance terms: always 2 decimal places, as their intervals (issue 19).
COEFFICIENT_PREFIXES = ("kappa", "ac1", "ac2", "fleiss_kappa", "alpha_", "conger", "brennan", "scott", "p_o", "p_e")


def _is_pvalue(column: object) -> bool:
    c = str(column)
    return c in ("p_value", "q_value") or c.endswith(("_p", "_q"))


def format_cell(value: object, column: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, (bool, np.bool_)):
        return "Yes" if value else "No"
    if is_share(column) and isinstance(value, (int, float, np.integer, np.floating)):
        return pct(value)
    if isinstance(value, (float, np.floating)) and _is_pvalue(column):
        return "<0.001" if value < 0.001 else fmt.number(value, 3)  # one p format: 3 decimals
    if isinstance(value, (float, np.floating)) and str(column).startswith(COEFFICIENT_PREFIXES) \
            and not str(column).endswith("_se"):
        return fmt.number(value, 2)
    if isinstance(value, (float, np.floating)):
        return fmt.significant(value, 3) if abs(value) < 1 else fmt.number(value, 2)
    if isinstance(value, (int, np.integer)):
        return fmt.count(value)
    return str(value)


SMALL_N_MARK = "†"
#: above this many columns a table prints on a landscape page
WIDE_COLUMNS = 8


def _interval_partners(frame: pd.DataFrame, column: str) -> tuple[str, str] | None:
    """The (low, high) interval columns that belong to estimate ``column``, if the table has them."""
    stem = column[: -len("_share")] if column.endswith("_share") else column
    candidates = [(f"{column}_ci_low", f"{column}_ci_high"), (f"{stem}_ci_low", f"{stem}_ci_high")]
    if is_share(column):  # a count column (e.g. good_or_better) never takes its share's interval
        candidates.insert(0, (f"{stem}_low_share", f"{stem}_high_share"))
    for low, high in candidates:
        if low in frame.columns and high in frame.columns:
            return low, high
    return None


def _with_range(value: object, low: object, high: object, column: str) -> str:
    shown = format_cell(value, column)
    numbers = [v for v in (low, high) if isinstance(v, (int, float, np.integer, np.floating)) and not pd.isna(v)]
    if len(numbers) < 2 or shown == "–" or isinstance(value, str):  # a suppression mark (any symbol) stands alone
        return shown
    if is_share(column):
        return f"{shown} ({fmt.pct_range(low, high)})"
    return f"{fmt.number(value)} ({fmt.number_range(low, high)})"


def small_n_flags(frame: pd.DataFrame) -> np.ndarray | None:
    """The rows of ``frame`` that get the † mark: its ``small_n`` column (made from the real n by
    :mod:`qa_lib.sections.change` and :mod:`qa_lib.sections.reliability`), as booleans; ``None`` when
    the table has no such column.

    Only a real ``True`` counts. After disclosure control the column may hold the suppression
    mark (``c``) instead; that is *not* a flag (issue 14: ``"c"`` used to read as True and put †
    on rows with n = 27). Take the flags from the table before suppression and pass them to
    :func:`compact` / :func:`html_table` as ``small=``.
    """
    if "small_n" not in frame.columns:
        return None
    return np.array([isinstance(v, (bool, np.bool_)) and bool(v) for v in frame["small_n"]], dtype=bool)


def _shown(value: object) -> bool:
    """True for an estimate that is printed as a number (not missing, not a suppression mark)."""
    if isinstance(value, str) or value is None or value is pd.NA:
        return False
    return not (isinstance(value, (float, np.floating)) and math.isnan(value))


def is_number_column(values: pd.Series | pd.Index) -> bool:
    """True when a column holds numbers, decided by its type (issue 18: never by how a cell's text
    begins, which made sentences such as "30.2% (42 of 139) in 2024-09 ..." right-aligned).

    A numeric dtype (integers, floats, nullable numbers) is a number column; booleans, text,
    categories and dates are not. An ``object`` column is a number column when it holds real
    numbers (int or float values, not bools): a published table's counts after disclosure control
    are numbers mixed with the suppression mark (``c``), and stay a number column.
    """
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        return False
    if pd.api.types.is_numeric_dtype(dtype):
        return True
    if pd.api.types.is_object_dtype(dtype):
        return any(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
                   and not (isinstance(v, (float, np.floating)) and math.isnan(v)) for v in values)
    return False


def number_columns(frame: pd.DataFrame) -> list[bool]:
    """:func:`is_number_column` of each column of ``frame``, in order: pass it as ``numeric=`` to
    :func:`render_table` with a text version of ``frame`` that keeps its columns (e.g. the explorer's)."""
    return [is_number_column(frame.iloc[:, k]) for k in range(frame.shape[1])]


def compact(frame: pd.DataFrame, *, small: Sequence[bool] | np.ndarray | None = None) -> tuple[pd.DataFrame, list[str]]:
    """The reader's view of a full table: each estimate merged with its 95% interval in one cell
    ("60% (53–68%)"), text summaries that repeat those numbers dropped, and the small-sample flag
    shown as a † marker with a footnote. The CSV keeps every column at full precision.

    Parameters
    ----------
    frame : DataFrame
    small : sequence of bool, optional
        Which rows (by position) have fewer audits than the minimum: the † marks. Default: the
        table's own ``small_n`` column (:func:`small_n_flags`). A published table passes the
        flags of its unsuppressed version, so the marks come from the real n and agree with the
        internal report (a hidden estimate never gets a mark).

    Returns the formatted (text) frame and its footnotes.
    """
    out, notes, _ = _compact(frame, small=small)
    return out, notes


def _compact(frame: pd.DataFrame, *, small) -> tuple[pd.DataFrame, list[str], list[bool]]:
    """:func:`compact`, and for each shown column whether it holds numbers (:func:`is_number_column`
    of the column it comes from: an estimate merged with its range is a number)."""
    cells: dict[str, list[str]] = {}
    kinds: dict[str, bool] = {}
    used: set[str] = set()
    notes: list[str] = []
    merged_stems = []
    for col in frame.columns:
        pair = _interval_partners(frame, str(col))
        if pair:
            used.update(pair)
            merged_stems.append(str(col)[: -len("_share")] if str(col).endswith("_share") else str(col))
    if small is None:
        small = small_n_flags(frame)
    else:
        small = np.asarray(small, dtype=bool)
        if len(small) != len(frame):
            raise ValueError(f"small= has {len(small)} flags for a table of {len(frame)} rows")
    for col in frame.columns:
        name = str(col)
        if name in used or name == "small_n" or (name.endswith("_summary") and merged_stems):
            continue
        pair = _interval_partners(frame, name)
        if pair:
            values = [_with_range(v, lo, hi, name) for v, lo, hi in zip(frame[col], frame[pair[0]], frame[pair[1]])]
            if small is not None and is_share(name):
                values = [v + SMALL_N_MARK if flag and _shown(frame[col].iloc[i]) else v
                          for i, (v, flag) in enumerate(zip(values, small))]
            shown = label(col) + " (95% range)"
            cells[shown] = values
        else:
            shown = label(col)
            cells[shown] = [format_cell(v, col) for v in frame[col]]
        kinds[shown] = is_number_column(frame[col])
    if merged_stems:
        notes.append("Ranges are 95% confidence intervals (Wilson score for percentages).")
    if small is not None and small.any():
        notes.append(f"{SMALL_N_MARK} Fewer audits than the minimum for a stable percentage: treat with caution.")
    out = pd.DataFrame(cells, index=frame.index)
    out.index = out.index.set_names([label(n) if n is not None else None for n in out.index.names])
    out.columns.name = None
    return out, notes, [kinds[c] for c in cells]


def display_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Format every cell as text and humanise the headers (index names included)."""
    return compact(frame)[0]


def html_table(frame: pd.DataFrame, *, caption: str, index: bool = True,
               small: Sequence[bool] | np.ndarray | None = None) -> str:
    """Accessible HTML table of a full-precision table: :func:`compact`, then :func:`render_table`."""
    shown, notes, numeric = _compact(frame, small=small)
    return render_table(shown, caption=caption, index=index, notes=notes, numeric=numeric)


def render_table(shown: pd.DataFrame, *, caption: str, index: bool = True, notes: Sequence[str] = (),
                 table_class: str = "qa-table", numeric: Sequence[bool] | None = None) -> str:
    """The one HTML table renderer (reports and explorer): caption, header cells with scope, every
    value escaped, text columns marked for left alignment, a ``Total`` row marked, and the
    keyboard-scrollable region wrapper (WCAG 2.1.1).

    Parameters
    ----------
    shown : DataFrame
        The reader's text (e.g. from :func:`compact` or the explorer's ``display_table``).
    caption : str
    index : bool
        Show the index as row header cells.
    notes : sequence of str
        Footnotes printed under the table.
    table_class : str
        CSS classes of the ``<table>`` (``qa-table`` is styled by the report CSS).
    numeric : sequence of bool, optional
        Which columns hold numbers (right-aligned); the others are text, left-aligned. Decided by
        the type of the column each shown column comes from (:func:`number_columns` of the
        full-precision table; :func:`html_table` passes it). Default: the type of ``shown``'s own
        columns, so a column of formatted text is text. Never decided by a cell's first character.
    """
    # numbers read right-aligned, words left-aligned, by the column's type (issue 18); a header sits over its column
    numeric = number_columns(shown) if numeric is None else [bool(v) for v in numeric]
    if len(numeric) != shown.shape[1]:
        raise ValueError(f"numeric= has {len(numeric)} flags for a table of {shown.shape[1]} columns")
    heads = []
    index_names = [n for n in shown.index.names] if index else []
    if index:  # row labels are words
        heads += [f'<th scope="col" class="text">{html.escape(str(n or ""))}</th>' for n in index_names]
    heads += [('<th scope="col">' if n else '<th scope="col" class="text">') + f"{html.escape(str(c))}</th>"
              for c, n in zip(shown.columns, numeric)]
    td = ["<td>" if n else '<td class="text">' for n in numeric]
    body = []
    for idx, row in zip(shown.index, shown.itertuples(index=False, name=None)):
        cells = []
        if index:
            keys = idx if isinstance(idx, tuple) else (idx,)
            cells += [f'<th scope="row">{html.escape(str(k))}</th>' for k in keys]
        cells += [f"{open_}{html.escape(str(v))}</td>" for open_, v in zip(td, row)]
        cls = ' class="total"' if (idx == "Total" or (isinstance(idx, tuple) and idx[0] == "Total")) else ""
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    # a wide table scrolls: the region is focusable and named so keyboard users can scroll it (axe
    # scrollable-region-focusable, WCAG 2.1.1)
    # printed, a table of more than WIDE_COLUMNS columns gets a landscape page (templates/report.css)
    wide = " wide" if len(heads) > WIDE_COLUMNS else ""
    return (f'<div class="table-wrap{wide}" tabindex="0" role="region" aria-label="{html.escape(caption, quote=True)}">'
            f'<table class="{html.escape(table_class, quote=True)}"><caption>{html.escape(caption)}</caption>'
            f"<thead><tr>{''.join(heads)}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
            + "".join(f'<p class="note">{html.escape(n)}</p>' for n in notes))
