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
from qa_lib import charts, tables
from qa_lib.report import Report

rpt = Report.start(params_path, report="quarterly", output_dir=output_dir)
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
# ## Audit volume

# %%
rpt.table(tables.audit_volume(ds).set_index(["period", "month"]), "audit_volume",
          "Audits completed and moderated by month", empty="No audits in these periods.")

# %% [markdown]
# ## Overall grades this period and before

# %%
rpt.chart(charts.stacked_grades(tables.overall_by_period(ds), list(ds.scale.grades),
                                title="Overall grade by period", what="the overall grade mix in each period"))

# %%
rpt.table(tables.overall_by_period(ds), "overall_by_period", "Overall grade by period (auditor grades)",
          empty="No graded audits in these periods.")

# %% [markdown]
# ## Grades by service area

# %%
rpt.table(tables.grades_by(ds, "service_area"), "grades_by_service_area",
          "Overall grade by service area this period, with totals", empty="No graded audits this period.")

# %% [markdown]
# ## Grades by practice domain

# %%
rpt.chart(charts.stacked_grades(tables.grades_by_domain(ds), list(ds.scale.grades),
                                title="Grade by practice domain this period", what="the grade mix in each practice domain"))

# %%
rpt.table(tables.grades_by_domain(ds), "grades_by_domain", "Grade by practice domain this period (auditor grades)",
          empty="No domain grades this period.")

# %% [markdown]
# ## Cohorts

# %%
rpt.table(tables.grades_by(ds, "cohort"), "grades_by_cohort", "Overall grade by cohort this period",
          empty="No cohort recorded on this period's audits.")

# %% [markdown]
# ## Returns against target and practitioner participation

# %%
rpt.table(tables.returns_by(ds, "month_label"), "returns_by_month", "Audits allocated and returned by month",
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

# %% [markdown]
# ## Moderation

# %%
rpt.table(tables.moderation_outcomes(ds), "moderation_outcomes", "Moderation outcomes: overall grade, auditor vs moderator",
          empty="No audits were moderated this period.")
