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
# Performance indicators: each indicator charted with NHS England's Making Data Count rules, compared
# with England and statistical neighbours, and set beside what the case-file audits found.

# %% tags=["parameters"]
params_path: str = "../params/demo.yaml"  # the period's params YAML (paths inside are relative to it)
output_dir: str = ""  # folder for tables; empty means outputs/PERIOD/ as set in the params

# %%
from qa_lib.sections import indicators
from qa_lib.present import charts_indicators
from qa_lib.present.report import Report

rpt = Report.start(params_path, report="indicators", output_dir=output_dir)
ds = rpt.dataset

# %%
results = indicators.assess(ds)

# %% [markdown]
# ## About this report

# %%
rpt.show_provenance()

# %% [markdown]
# ## Data quality

# %%
rpt.data_quality()

# %%
rpt.table(indicators.unmatched_benchmarks(ds), "unmatched_benchmarks",
          "Benchmark rows whose indicator or period matched nothing in the indicators file", index=False,
          empty="Every benchmark row matched an indicator and a period of its series.")

# %% [markdown]
# ## Summary

# %%
rpt.text(indicators.headline(ds, results))

# %%
rpt.table(indicators.summary_table(ds, results), "summary", "All indicators, concerns first",
          note="Variation: ○ common cause, ▲ improvement, ▼ concern, ◆ neutral; H/L = higher/lower than usual. "
               "Assurance: ✔ P consistently meets, ✖ F consistently misses, ≈ ? hit and miss.",
          empty="No performance indicators are configured for this run (params data.indicators).")

# %% [markdown]
# ## Indicators that need a look

# %%
rpt.table(indicators.needs_look_table(ds, results), "need_a_look",
          "Indicators with special cause concern at the latest point, with the audit evidence beside them",
          empty="No indicator shows special cause concern at its latest point.")

# %% [markdown]
# ## Do the audits and the indicators agree?

# %%
rpt.table(indicators.evidence_table(ds, results), "audit_evidence",
          "Linked audit domain or cohort: % Good or better by period and its trend, beside each indicator",
          empty="No indicator is linked to an audit domain or cohort (params indicator_links).")

# %% [markdown]
# ## Benchmarks

# %%
rpt.table(indicators.benchmark_table(ds, results), "benchmarks",
          "Latest local value against each comparator's latest published value",
          note="Values and differences are in the indicator's unit (percentage points for rates); intervals are 95%.",
          empty="No benchmarks are configured for this run (params data.benchmarks).")

# %% [markdown]
# ## Charts

# %%
charts_indicators.indicator_panels(rpt, results)

# %% [markdown]
# ## Methods

# %%
rpt.text(indicators.METHODS_NOTE)
