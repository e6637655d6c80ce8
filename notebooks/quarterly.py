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
# Quarterly QA report: what the case-file audits of this period found, how they compare with
# earlier periods, and how far moderation confirms the grades.

# %% tags=["parameters"]
params_path: str = "../params/demo.yaml"  # the period's params YAML (paths inside are relative to it)
output_dir: str = ""  # folder for tables; empty means outputs/PERIOD/ as set in the params

# %%
from qa_lib.present import charts
from qa_lib.sections import tables
from qa_lib.sections import change, narrative
from qa_lib.present import charts_spc
from qa_lib.sections import actions, feedback, returns, themes
from qa_lib.sections import quarters
from qa_lib.sections import reliability
from qa_lib.sections import indicators
from qa_lib.present.report import Report

rpt = Report.start(params_path, report="quarterly", output_dir=output_dir)
ds = rpt.dataset

# %% [markdown]
# ## About this report

# %%
rpt.show_provenance()

# %% [markdown]
# ## Summary

# %%
rpt.bullets(narrative.summary(ds))

# %%
rpt.text(change.methods_note(ds))

# %% [markdown]
# ## Data quality

# %%
rpt.data_quality()

# %% [markdown]
# ## Audit volume

# %%
rpt.table(tables.audit_volume(ds).set_index(["period", "month"]), "audit_volume",
          "Audits completed and moderated by month", empty="No audits in these periods.")

# %%
rpt.text(quarters.activity_sentence(ds))

# %%
rpt.text(tables.review_sentence(ds))

# %%
rpt.table(quarters.audit_activity(ds), "audit_activity", "Audits and pieces of audit activity (audits × raters) by period",
          empty="No audits in these periods.")

# %% [markdown]
# ## Overall grades this period and before

# %%
overall = tables.overall_by_period(ds)

# %%
rpt.chart(charts.stacked_grades(overall, list(ds.scale.grades),
                                title="Overall grade by period", what="the overall grade mix in each period"))

# %%
rpt.table(change.with_intervals(change.without_empty_periods(overall), ds), "overall_by_period",
          "Overall grade by period", note=tables.audit_grade_rule(ds, change.empty_periods_note(overall)),
          empty="No graded audits in these periods.")

# %%
rpt.text(quarters.grade_across_quarters(ds, ds.scale.grades[-1]))

# %%
rpt.table(change.comparison_display(change.period_comparison(ds)), "overall_change",
          "Overall % Good or better: this period vs the previous one, tested",
          note=tables.audit_grade_rule(ds, change.methods_note(ds)),
          empty="No graded audits in these periods.")

# %% [markdown]
# ## Grades by service area

# %%
rpt.table(change.with_intervals(tables.grades_by(ds, "service_area"), ds), "grades_by_service_area",
          "Overall grade by service area this period, with totals", note=tables.audit_grade_rule(ds),
          empty="No graded audits this period.")

# %% [markdown]
# ## Grades by practice domain

# %%
domain_grades = tables.grades_by_domain(ds)

# %%
rpt.chart(charts.stacked_grades(domain_grades, list(ds.scale.grades),
                                title="Grade by practice domain this period", what="the grade mix in each practice domain"))

# %%
rpt.table(change.with_intervals(domain_grades, ds), "grades_by_domain", "Grade by practice domain this period",
          note=tables.audit_grade_rule(ds), empty="No domain grades this period.")

# %%
rpt.table(quarters.domain_by_quarter(ds), "domain_by_quarter", "Grades by practice domain, quarter on quarter",
          note=tables.audit_grade_rule(ds), empty="No domain grades in these periods.")

# %%
rpt.table(change.comparison_display(change.domain_changes(ds)), "domain_changes",
          "% Good or better by practice domain: this period vs the previous one, tested across all domains shown",
          note=tables.audit_grade_rule(ds, change.methods_note(ds)), empty="No domain grades in this or the previous period.")

# %% [markdown]
# ## Trend over time
# Tested over the report period and the earlier periods shown; monthly charts follow NHS England's
# Making Data Count rules (a signal is a prompt for a question, not a verdict).

# %%
rpt.table(change.trend_table(ds), "trend_tests", "Trend over the periods shown: % Good or better and the grade distribution",
          note=tables.audit_grade_rule(ds, change.trend_footnote(ds)), empty="No graded audits in these periods.")

# %%
spc_good = change.good_or_better_spc(ds)

# %%
rpt.chart(charts_spc.spc_chart(spc_good), empty=spc_good.reason)

# %%
rpt.text(spc_good.reading)

# %%
spc_returns = change.return_rate_spc(ds)

# %%
rpt.chart(charts_spc.spc_chart(spc_returns), empty=spc_returns.reason)

# %%
rpt.text(spc_returns.reading)

# %% [markdown]
# ## Cohorts

# %%
rpt.table(change.with_intervals(tables.grades_by(ds, "cohort"), ds), "grades_by_cohort", "Overall grade by cohort this period",
          note=tables.audit_grade_rule(ds), empty="No cohort recorded on this period's audits.")

# %% [markdown]
# ## Returns against target and practitioner participation

# %%
rpt.table(change.returns_with_intervals(tables.returns_by(ds, "month_label"), ds), "returns_by_month", "Audits allocated and returned by month",
          note="Return rate = returned ÷ (allocated − exempt).", empty="No allocations recorded this period.")

# %%
rpt.table(tables.returns_by(ds, "service_area"), "returns_by_service_area", "Audits allocated and returned by service area",
          empty="No allocations recorded this period.")

# %%
rpt.table(tables.participation(ds), "participation", "Practitioner participation in returned audits",
          empty="No participation recorded this period.")

# %%
rpt.table(tables.non_participation_reasons(ds), "non_participation_reasons", "Reasons practitioners did not take part",
          empty="Every practitioner with a returned audit took part, or none was recorded.")

# %%
rpt.text(returns.summary(ds))

# %%
rpt.table(returns.by_period(ds), "return_rate_by_period", "Return rate by period with 95% intervals (the trend's data)",
          note="Intervals are Wilson 95%; the trend is tested with Cochran–Armitage over these periods.",
          empty="No allocations recorded in these periods.")

# %% [markdown]
# ## Indicators that need a look
# Performance indicators whose latest point shows special cause concern (Making Data Count), with the
# linked audit evidence; every indicator is charted in the Performance indicators report.

# %%
rpt.table(indicators.needs_look_table(ds), "indicators_need_a_look",
          "Indicators with special cause concern at the latest point, with the audit evidence beside them",
          empty="No indicator shows special cause concern at its latest point, or none is configured.")

# %% [markdown]
# ## Moderation

# %%
rpt.table(tables.moderation_outcomes(ds), "moderation_outcomes", "Moderation outcomes: overall grade, auditor vs moderator",
          empty="No audits were moderated this period.")

# %%
rpt.table(reliability.quarterly_agreement(ds), "moderation_agreement",
          "Agreement between auditor and moderator: % same grade, quadratic weighted kappa and AC1, with 95% CIs",
          note=reliability.QUARTERLY_NOTE, empty="No audits were moderated this period.")

# %% [markdown]
# ## Family feedback

# %%
rpt.table(feedback.by_question(ds), "feedback_by_question", "Family feedback: % answering positively, by question and period",
          note=feedback.positive_note(ds),
          empty="No family feedback recorded in these periods.")

# %%
feedback_comparison = feedback.compare_periods(ds)

# %%
rpt.text(feedback.comparison_sentence(feedback_comparison))

# %%
rpt.table(feedback_comparison, "feedback_change", "Family feedback: this period vs the previous one, tested",
          note="Fisher's exact or chi-squared test per question; q = Benjamini–Hochberg adjusted across the questions.",
          empty="No question was asked in both periods.")

# %% [markdown]
# ## Strengths and learning themes

# %%
rpt.table(themes.by_domain(ds), "comments_by_domain", "Strength and learning comments by practice domain this period",
          empty="No strength or learning comments recorded this period.")

# %%
rpt.table(themes.counts_by_period(ds), "themes_by_period", "Comments mentioning each theme, by period",
          note="A comment counts once for every theme it mentions (keywords in params themes).",
          empty="No comments recorded in these periods.")

# %%
rpt.table(themes.example_quotes(ds), "theme_quotes", "Example comments (redacted; internal report only)",
          index=False, empty=themes.QUOTES_EMPTY)

# %% [markdown]
# ## Audit actions

# %%
rpt.text(actions.summary(ds))

# %%
rpt.table(actions.status_by_service_area(ds), "actions_by_service_area",
          "Audit actions raised in the periods shown: status at the end of this period",
          empty="No audit actions were raised in these periods.")

# %%
rpt.table(actions.review_within_weeks(ds), "actions_review_in_time",
          "Actions reviewed or completed within the review window, by service area (actions raised in the periods shown)",
          note=actions.review_note(ds), empty="No audit actions were raised in the periods shown.")

# %%
rpt.table(actions.overdue_list(ds), "overdue_actions", "Overdue audit actions at the end of this period, longest overdue first",
          index=False, person_level=True, max_rows=25, empty="No audit actions were overdue at the end of this period.")
