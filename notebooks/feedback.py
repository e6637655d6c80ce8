# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# Family feedback: what families said about the help they received, question by question and period
# by period, with how many answered and how sure we can be of each percentage.

# %% tags=["parameters"]
params_path: str = "../params/demo.yaml"  # the period's params YAML (paths inside are relative to it)
output_dir: str = ""  # folder for tables; empty means outputs/PERIOD/ as set in the params

# %%
from qa_lib.sections import feedback
from qa_lib.present.report import Report

rpt = Report.start(params_path, report="feedback", output_dir=output_dir)
ds = rpt.dataset

# %% [markdown]
# ## About this report

# %%
rpt.show_provenance()

# %% [markdown]
# ## Data quality

# %%
rpt.data_quality()

# %% [markdown]
# ## Answers by question and period

# %%
rpt.table(feedback.by_question(ds), "feedback_by_question", "% answering positively, by question and period",
          note=feedback.positive_note(ds),
          empty="No family feedback recorded in these periods.")

# %% [markdown]
# ## Intervals

# %%
rpt.table(feedback.positive_shares(ds).set_index(["survey", "question", "period"]), "feedback_intervals",
          "% positive with 95% Wilson intervals", empty="No family feedback recorded in these periods.")

# %% [markdown]
# ## Every answer

# %%
rpt.table(feedback.answers_table(ds), "feedback_answers", "n and % of every answer option, by question and period",
          empty="No family feedback recorded in these periods.")

# %% [markdown]
# ## Change since the previous period

# %%
comparison = feedback.compare_periods(ds)

# %%
rpt.text(feedback.comparison_sentence(comparison))

# %%
rpt.table(comparison, "feedback_change", "This period vs the previous one, tested",
          note="Fisher's exact or chi-squared test per question; q = Benjamini–Hochberg adjusted across the questions.",
          empty="No question was asked in both periods.")

# %% [markdown]
# ## Families who responded

# %%
rpt.table(feedback.families_responded(ds), "families_responded",
          "Families who responded, by survey: each period shown and to date",
          empty="No family feedback recorded up to the end of this period.")

# %% [markdown]
# ## Every answer to date

# %%
rpt.table(feedback.to_date_table(ds), "feedback_to_date",
          "Every answer option's share of all answers to date, by question",
          note=feedback.small_n_note(ds), empty="No family feedback recorded up to the end of this period.")

# %% [markdown]
# ## Quarter on quarter

# %%
from qa_lib.present import charts_feedback

# %%
rpt.chart(charts_feedback.positive_share_chart(ds), empty="No family feedback recorded in these periods.")

# %% [markdown]
# ## What families said in their own words

# %%
rpt.table(feedback.family_voice_themes(ds), "family_voice_themes",
          "Free-text answers mentioning each theme, by survey and period",
          empty="No free-text answers in these periods (declare free-text questions under params feedback.free_text).")

# %%
rpt.table(feedback.family_quotes(ds), "family_quotes", "What families said this period (redacted; internal report only)",
          index=False, empty="No quotes shown: quotes appear only in internal reports, after redaction.")
