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

test: $(STAMP)  ## run the test suite
	$(BIN)/python -m pytest

clean:  ## remove generated outputs (keeps .venv)
	find outputs -mindepth 1 ! -name .gitkeep -exec rm -rf {} +
