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
# # Explore the case-file audits
#
# Choose the periods, service area, team, cohort, domain, rater and measure: the chart and the table
# follow, each share with its number of audits (n) and a 95% interval. Tick "Compare" to set a second
# selection (B) beside the first and test the difference. "Export" writes the table on screen to
# Excel and CSV in `outputs/exports/`. This is an exploration tool, not a report: nothing here is
# published.

# %% tags=["parameters"]
params_path: str = "../params/demo.yaml"  # params YAML naming the data files (paths inside are relative to it)
export_dir: str = ""  # where the export button writes; empty means outputs/exports/ under the params' output_dir

# %%
from qa_lib.present.explorer_view import Explorer

explorer = Explorer.from_params(params_path, export_dir=export_dir)

# %%
explorer.app
