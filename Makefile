# QA Workbook — one front door. `make help` lists the targets.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PARAMS ?= params/demo.yaml

.DEFAULT_GOAL := help
.PHONY: help install demo test lab explore bench clean

help:  ## list the targets
	@grep -E '^[a-z]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("QA Workbook needs Python 3.11 or newer (found " + sys.version.split()[0] + ")") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

install: $(STAMP)  ## create .venv and install qa_lib with its dependencies

demo: $(STAMP)  ## render the demo period's reports into outputs/ and print their paths
	$(BIN)/qa-workbook demo

test: $(STAMP)  ## lint with ruff (rules in pyproject.toml), then run the test suite
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lab: $(STAMP)  ## open JupyterLab on the project (notebooks/*.py open as notebooks; installs the lab extra)
	$(BIN)/python -m pip install --quiet -e ".[lab]"
	JUPYTER_CONFIG_PATH="$(CURDIR)/qa_lib/templates/jupyter/config" $(BIN)/jupyter lab --notebook-dir="$(CURDIR)" \
		$(if $(filter 0,$(shell id -u)),--allow-root)

explore: $(STAMP)  ## serve the explorer in the browser with Voila on localhost (PARAMS=params/your.yaml)
	$(BIN)/python -m qa_lib.explore_app --params "$(PARAMS)"

bench: $(STAMP)  ## measure the demo pack (--jobs 1/2 vs floor), 1e6 ratings, XLSX ingest; writes bench/RESULTS.md
	$(BIN)/python bench/run_bench.py

clean:  ## remove generated outputs (keeps .venv)
	find outputs -mindepth 1 ! -name .gitkeep -exec rm -rf {} +
