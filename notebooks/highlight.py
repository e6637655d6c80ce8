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
# QA highlight report: the month-by-month findings of the case-file audit programme, as QA teams
# publish them, with every arrow tested and every comparison saying what the data can and cannot show.

# %% tags=["parameters"]
params_path: str = "../params/demo-highlight.yaml"  # the period's params YAML (paths inside are relative to it)
output_dir: str = ""  # folder for tables; empty means outputs/PERIOD/ as set in the params

# %%
from qa_lib.present import charts, charts_highlight
from qa_lib.sections import change, highlight, themes
from qa_lib.present.report import Report

rpt = Report.start(params_path, report="highlight", output_dir=output_dir)
ds = rpt.dataset

# %% [markdown]
# ## About this report

# %%
rpt.show_provenance()

# %%
rpt.text(highlight.empty_months_note(ds))

# %%
rpt.text(highlight.scale_note(ds))

# %% [markdown]
# ## Data quality

# %%
rpt.data_quality()

# %% [markdown]
# ## Context and sampling

# %%
rpt.table(highlight.context(ds), "context", "Audits distributed (allocated − exempt), returned and exempt by month",
          note="% returned = returned ÷ distributed, with its 95% Wilson range, against the target in the params.",
          empty="No allocations recorded in these months.")

# %%
rpt.bullets(highlight.sampling_rules(ds))

# %% [markdown]
# ## Audit compliance

# %%
rpt.bullets(highlight.compliance_sentences(ds, rpt.view(highlight.compliance(ds), "compliance")))

# %%
rpt.table(highlight.compliance(ds), "compliance", "Return rate against the month before, and service areas at 100% returns",
          empty="No allocations recorded in these months.")

# %% [markdown]
# ## Practitioner participation

# %%
rpt.bullets(highlight.participation_sentences(ds, rpt.view(highlight.participation(ds), "participation")))

# %%
rpt.table(highlight.participation(ds), "participation", "Practitioner participation in returned audits by month",
          note="Participation = took part ÷ returned audits with yes or no recorded; ties for the most common reason are all named.",
          empty="No participation recorded in these months.")

# %% [markdown]
# ## Moderation by month

# %%
rpt.bullets(highlight.moderation_sentences(ds, rpt.view(highlight.moderation(ds), "moderation")))

# %%
rpt.table(highlight.moderation(ds), "moderation", "Moderation of the overall grade by month (only the moves that happened in some month)",
          note="Direction: exact sign test of downgrades against upgrades (McNemar-type).",
          empty="No audits in these months.")

# %% [markdown]
# ## Overall grades

# %%
overall = highlight.overall_by_month(ds)

# %%
rpt.chart(charts.stacked_grades(overall, list(ds.scale.grades), title="Overall grade by month (prior to moderation)",
                                what="the overall grade mix in each month"), empty="No graded audits in these months.")

# %%
rpt.table(change.with_intervals(overall, ds), "overall_by_month", "Overall grade by month (auditor grades, prior to moderation)",
          empty="No graded audits in these months.")

# %%
past = highlight.past_months(ds)

# %%
rpt.chart(charts_highlight.past_months_chart(past), empty="No graded audits in the past months.")

# %%
rpt.text(past.reading)

# %%
rpt.table(past.frame, "past_months", "Monthly % Good or better over the past months (months with no audits left out)",
          empty="No graded audits in the past months.")

# %% [markdown]
# ## Grade by service area

# %%
rpt.table(highlight.grade_by_service_area(ds), "grade_by_service_area",
          "Grade by service area over the months shown (auditor's overall grade)", empty="No graded audits in these months.")

# %% [markdown]
# ## Audit grades across the performance areas

# %%
rpt.table(highlight.performance_display(ds, rpt.view(highlight.performance_areas(ds), "performance_areas")),
          "performance_areas_display",
          "Performance areas: % Good/Outstanding and % Requires improvement by month, with counts",
          note=("Arrows: the direction of the unrounded share against the month before (= when equal); whether a move "
                "could be chance is in the next table."), empty="No domain grades in these months.")

# %%
rpt.table(highlight.performance_areas(ds), "performance_areas",
          "Performance areas by month: counts, n, arrow and the tested reading of each move",
          note=("Each move is tested (Fisher's exact or chi-squared), with the Newcombe range of the difference, and "
                "Benjamini–Hochberg q across the areas of that month."), empty="No domain grades in these months.")

# %% [markdown]
# ## Cohort comparators

# %%
rpt.bullets(highlight.cohort_sentences(ds, rpt.view(highlight.cohort_changes(ds), "cohort_changes")))

# %%
rpt.table(highlight.cohort_comparators(ds), "cohort_comparators",
          "This period's cohorts at each audit occasion: % Good or better by area, with 95% ranges",
          empty="No cohort recorded on these months' audits.")

# %%
rpt.table(highlight.cohort_changes(ds), "cohort_changes",
          "Cohorts: first vs latest occasion (tested, Benjamini–Hochberg across areas) and trend over the occasions",
          note="Trend: Cochran–Armitage with the month as score (exact p when few audits are, or are not, Good or better).",
          empty="No cohort recorded on these months' audits.")

# %% [markdown]
# ## Key themes

# %%
rpt.bullets(highlight.key_theme_sentences(ds, rpt.view(highlight.key_themes(ds), "key_themes")))

# %%
rpt.table(highlight.key_themes(ds), "key_themes", "Strengths and learning by month and area: audits and share of the month's audits",
          note="Shares are of all audits that month (the performance table's n is the audits graded in that area).",
          empty="No domain grades or comments in these months.")

# %%
rpt.table(themes.example_quotes(ds), "theme_quotes", "Example comments (redacted; internal report only)",
          index=False, empty=themes.QUOTES_EMPTY)

# %% [markdown]
# ## Themes and actions taken forward

# %%
rpt.table(highlight.themes_and_actions(ds), "themes_and_actions", "Actions raised from these audits, by theme, with their status",
          empty=highlight.actions_note(ds))

# %% [markdown]
# ## Thematic and external audits

# %%
rpt.table(highlight.other_audits(ds), "other_audits",
          "Thematic and external audits in these months, with what prompted them (not pooled with the monthly programme)",
          empty="No thematic or external audits in these months.")
