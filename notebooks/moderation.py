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
# Moderation reliability: how far auditors and moderators agree on the grades, where they
# disagree, and in which direction. For statisticians and QA leads planning calibration.

# %% tags=["parameters"]
params_path: str = "../params/demo.yaml"  # the period's params YAML (paths inside are relative to it)
output_dir: str = ""  # folder for tables; empty means outputs/PERIOD/ as set in the params

# %%
from qa_lib.present import charts_reliability
from qa_lib.sections import reliability, tables
from qa_lib.present.report import Report

rpt = Report.start(params_path, report="moderation", output_dir=output_dir)
ds = rpt.dataset

# %% [markdown]
# ## About this report

# %%
rpt.show_provenance()

# %% [markdown]
# ## Summary

# %%
rpt.bullets(reliability.summary(ds, byd=rpt.view(reliability.agreement_by_domain(ds), "agreement_by_domain")))

# %%
rpt.text(tables.review_sentence(ds))

# %% [markdown]
# ## Data quality

# %%
rpt.data_quality()

# %% [markdown]
# ## Methods

# %%
rpt.text(reliability.METHODS)

# %% [markdown]
# ## Agreement by domain

# %%
by_domain = reliability.agreement_by_domain(ds)

# %%
rpt.chart(charts_reliability.agreement_forest(rpt.view(by_domain, "agreement_by_domain"), measure="ac1", measure_label="AC1",
                                              title="AC1 by domain this period", what="practice domain"),
          empty="No audits were moderated this period.")

# %%
rpt.table(by_domain, "agreement_by_domain",
          "Agreement between auditor and moderator by domain this period", note=reliability.TABLE_NOTE,
          empty="No audits were moderated this period.")

# %% [markdown]
# ## Agreement by period

# %%
by_period = reliability.agreement_by_period(ds)

# %%
rpt.chart(charts_reliability.agreement_forest(rpt.view(by_period, "agreement_by_period"), measure="ac1", measure_label="AC1",
                                              title="AC1 on the overall grade by period", what="period"),
          empty="No audits were moderated in the periods shown.")

# %%
rpt.table(by_period, "agreement_by_period",
          "Agreement on the overall grade by period", note=reliability.TABLE_NOTE,
          empty="No audits were moderated in the periods shown.")

# %% [markdown]
# ## Agreement by service area

# %%
rpt.table(reliability.agreement_by_service_area(ds), "agreement_by_service_area",
          "Agreement on the overall grade by service area this period", note=reliability.TABLE_NOTE,
          empty="No audits were moderated this period.")

# %% [markdown]
# ## Agreement by auditor

# %%
rpt.table(reliability.agreement_by_auditor(ds), "agreement_by_auditor",
          "Agreement on the overall grade by auditor (pseudonymised, most moderated first), periods shown",
          note=reliability.AUDITOR_NOTE, empty="No audits were moderated in the periods shown.", person_level=True)

# %% [markdown]
# ## Systematic bias by auditor

# %%
bias = reliability.auditor_bias(ds)

# %%
rpt.text(reliability.bias_text(bias))

# %%
rpt.table(bias, "auditor_bias",
          "Do moderators lower an auditor's grades more often than chance? Overall grade, periods shown",
          note=reliability.BIAS_NOTE, empty="No audits were moderated in the periods shown.", person_level=True)

# %% [markdown]
# ## Confusion matrices

# %%
confusion = reliability.confusion_by_domain(ds)

# %%
rpt.chart(charts_reliability.confusion_heatmaps(confusion,
                                                title="Auditor grade against moderator grade this period", columns=4),
          empty="No audits were moderated this period.")

# %%
rpt.table(confusion, "confusion_by_domain",
          "Auditor grade (rows) against moderator grade (columns) by domain this period",
          empty="No audits were moderated this period.")

# %% [markdown]
# ## Direction of disagreement

# %%
rpt.table(reliability.drift_direction(ds), "drift_direction",
          "Do moderators grade systematically lower or higher? Direction by domain this period",
          note=reliability.DRIFT_NOTE, empty="No audits were moderated this period.")

# %%
rpt.table(reliability.drift_tests(ds), "drift_tests",
          "Do the two grade distributions differ? Stuart–Maxwell and Bowker by domain this period",
          note=reliability.DRIFT_NOTE, empty="No audits were moderated this period.")

# %% [markdown]
# ## Kappa and prevalence

# %%
paradox = reliability.kappa_paradox(ds)
coefficients, mix = reliability.paradox_coefficients(paradox), reliability.grade_mix(paradox)

# %%
rpt.text(reliability.paradox_text(reliability.paradox_join(rpt.view(coefficients, "kappa_paradox"),
                                                           rpt.view(mix, "grade_mix"))))

# %%
rpt.text(reliability.ac2_text(by_domain, len(ds.scale.grades)))

# %%
rpt.table(coefficients, "kappa_paradox",
          "Observed and chance agreement, kappa and AC1, by domain this period",
          empty="No audits were moderated this period.")

# %%
rpt.table(mix, "grade_mix",
          "Grade mix: each grade's share of all auditor and moderator grades, by domain this period",
          empty="No audits were moderated this period.")

# %% [markdown]
# ## Peer review with several raters

# %%
rpt.table(reliability.multirater(ds), "multirater",
          "Agreement among the auditor and peers of each case file in peer-reviewed services this period",
          note=reliability.MULTIRATER_NOTE, empty="No service used peer review this period.")

# %% [markdown]
# ## Agreement compared with the previous period

# %%
comparison = reliability.agreement_comparison(ds)

# %%
rpt.text(reliability.comparison_text(comparison, ds))

# %%
rpt.table(comparison, "agreement_comparison", "AC1 by domain: this period against the previous period",
          note=reliability.COMPARISON_NOTE, empty="No audits were moderated in either period.")

# %% [markdown]
# ## Agreement compared between domains and service areas

# %%
domain_cmp, area_cmp = reliability.domain_comparison(ds), reliability.service_area_comparison(ds)

# %%
rpt.text(reliability.between_text(rpt.view(domain_cmp, "domain_comparison"), rpt.view(area_cmp, "service_area_comparison")))

# %%
rpt.table(domain_cmp, "domain_comparison", "AC1 by domain against the other domains, same case files, this period",
          note=reliability.DOMAIN_COMPARISON_NOTE, empty="Fewer than two domains were moderated this period.")

# %%
rpt.table(area_cmp, "service_area_comparison",
          "AC1 on the overall grade by service area against the other areas this period",
          note=reliability.SERVICE_AREA_COMPARISON_NOTE, empty="Fewer than two service areas were moderated this period.")

# %% [markdown]
# ## Ordinal model of auditor effects

# %%
rpt.text(reliability.ordinal_text(ds, named=not rpt.published))

# %%
rpt.table(reliability.auditor_ordinal(ds), "auditor_ordinal",
          "Shift of the moderator's grade by auditor, given the auditor's own grade (ordinal model), periods shown",
          note=reliability.ORDINAL_NOTE, empty="Too few moderated audits to fit the ordinal model.", person_level=True)

# %% [markdown]
# ## How many to moderate next period

# %%
rpt.table(reliability.sample_planning(ds), "sample_planning",
          "Case files to moderate next period for a 95% CI of the width shown, by domain",
          note=reliability.PLANNING_NOTE, empty="No audits were moderated this period, so there is no basis to plan from.")

# %% [markdown]
# ## Multi-agency quality assurance

# %%
from qa_lib.sections import multiagency

# %%
rpt.bullets(multiagency.summary(ds))

# %%
rpt.text(multiagency.METHODS)

# %%
rpt.table(multiagency.grid(ds), "multiagency_grid",
          "Plan × agency grid for the multi-agency meeting: each agency's grade per plan and domain this period",
          note=multiagency.GRID_NOTE, empty="No plan was graded by agencies this period.", person_level=True)

# %%
rpt.table(multiagency.agreement_by_domain(ds), "multiagency_agreement",
          "Agreement across agencies by domain this period (units = plans, raters = agencies)",
          note=multiagency.AGREEMENT_NOTE, empty="No plan was graded by two or more agencies this period.")

# %%
rpt.table(multiagency.agency_differs(ds), "multiagency_agency_differs",
          "Which agency differs: each agency against the other agencies' consensus this period",
          note=multiagency.DIFFERS_NOTE, empty="No plan was graded by two or more agencies this period.")

# %%
rpt.table(multiagency.versus_caseworker(ds), "multiagency_vs_caseworker",
          "Each agency against the LA caseworker's own grade this period",
          note=multiagency.CASEWORKER_NOTE, empty="No LA caseworker grade to compare with (params forms.caseworker) this period.")
