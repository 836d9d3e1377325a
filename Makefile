# Two commands do all the set-up:  `make lab` opens the course,  `make test` runs every test.
# Both create .venv on first use and reinstall only when a requirements file changes.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PIP    := $(BIN)/python -m pip --disable-pip-version-check

.PHONY: lab test execute clean

$(STAMP): requirements.txt requirements-d2l.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q -r requirements.txt
	$(PIP) install -q --no-deps -r requirements-d2l.txt   # d2l's own pins are stale: see that file
	$(PIP) install -q --no-deps -e .
	touch $@

# JupyterLab on notebooks/, on localhost only, with token authentication left on.
lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks --ServerApp.ip=127.0.0.1

# Unit tests of course_utils, then nbval re-executing every notebook with strict output comparison.
test: $(STAMP)
	$(BIN)/python -m pytest

# Re-run notebooks in fresh kernels and store their outputs (all of them, or NB=path ...).
execute: $(STAMP)
	$(BIN)/python scripts/execute_notebooks.py $(or $(NB),notebooks/*.ipynb)

clean:
	rm -rf $(VENV) build .pytest_cache .hypothesis
