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
# Each runs in its own folder, as under nbval; no timestamps are written into the cells.
execute: $(STAMP)
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
	  --ExecutePreprocessor.kernel_name=python3 --ExecutePreprocessor.timeout=600 \
	  --ExecutePreprocessor.record_timing=False $(or $(NB),notebooks/*.ipynb)

# The student edition (README, "For teachers"): nbgrader's generate_assignment writes notebooks/
# without the solutions, the hidden tests and the questionnaires' model answers into
# build/release/notebooks/ (settings: nbgrader_config.py). student/ then receives only the
# notebooks it lacks: a notebook already there is the student's work and is never overwritten.
STUDENT ?= student
.PHONY: student lab-student grade feedback
student: $(STAMP)
	$(BIN)/nbgrader generate_assignment notebooks --no-db --force --log-level=ERROR
	@mkdir -p "$(STUDENT)"; for nb in build/release/notebooks/*.ipynb; do \
	  name=$$(basename "$$nb"); \
	  if [ ! -e "$(STUDENT)/$$name" ]; then cp "$$nb" "$(STUDENT)/$$name" && echo "wrote $(STUDENT)/$$name"; \
	  elif cmp -s "$$nb" "$(STUDENT)/$$name"; then echo "same  $(STUDENT)/$$name (up to date)"; \
	  else echo "kept  $(STUDENT)/$$name: it differs from this edition (your work?), so it is not" \
	            "overwritten; rename or delete it to get the new one"; fi; \
	done

# JupyterLab on the student edition, as `make lab` opens notebooks/.
lab-student: student
	JUPYTER_CONFIG_PATH=$(CURDIR)/jupyter-config $(BIN)/jupyter lab --notebook-dir="$(STUDENT)" --ServerApp.ip=127.0.0.1 $(LAB_FLAGS)

# Autograde the submissions in grading/submitted/<student id>/notebooks/ against the hidden tests
# and write every student's score to grading/grades.csv (README, "For teachers").
# nbgrader runs alembic (its database migrations) from PATH, hence $(BIN) on it. GRADE_FLAGS adds
# options, e.g. GRADE_FLAGS=--Execute.timeout=300 for a slower machine.
grade: $(STAMP)
	@mkdir -p grading
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/nbgrader generate_assignment notebooks --force --log-level=ERROR
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/nbgrader autograde notebooks --log-level=ERROR $(GRADE_FLAGS)
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/nbgrader export --to grading/grades.csv --log-level=ERROR
	@echo "scores: grading/grades.csv, one row per student (make feedback: a report for each)"

# Each student's graded notebooks as HTML, in grading/feedback/<student id>/notebooks/.
feedback: $(STAMP)
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/nbgrader generate_feedback notebooks --log-level=ERROR

# Time and peak memory of each notebook in fresh kernels against its bare-imports floor (RUNS=3).
.PHONY: bench
bench: $(STAMP)
	$(BIN)/python scripts/bench.py --runs $(or $(RUNS),3) $(or $(NB),notebooks/*.ipynb)

# Strict nbval over the notebooks N times (N=10), counting the rounds that pass; all must pass.
# JOBS=2 shares a round between two pytest-xdist workers, one notebook (kernel) at a time each.
# A failing round's log stays in build/stress/.
.PHONY: stress
stress: $(STAMP)
	@mkdir -p build/stress; passed=0; \
	for round in $$(seq $(or $(N),10)); do \
	  log=build/stress/round_$$round.log; \
	  if $(BIN)/python -m pytest notebooks -q -rfE \
	      $(if $(filter-out 1,$(or $(JOBS),1)),-n $(JOBS) --dist loadscope) >$$log 2>&1; \
	  then passed=$$((passed + 1)); echo "round $$round: PASS  $$(tail -n 1 $$log)"; rm $$log; \
	  else echo "round $$round: FAIL  $$(tail -n 1 $$log)  (log: $$log)"; fi; \
	done; \
	echo "stress: $$passed of $(or $(N),10) rounds passed"; test $$passed -eq $(or $(N),10)

# Slide decks of the notebooks (reveal.js, offline) in build/slides; the cuts come from the
# cells' slide metadata (scripts/slides.py --apply). Fetches MathJax and reveal.js from npm once.
.PHONY: slides site chromium
slides: $(STAMP)
	$(BIN)/python scripts/build_site.py slides

# Static site of the executed notebooks in build/site: index, previous/next links, math, alt text.
site: $(STAMP)
	$(BIN)/python scripts/build_site.py site

# Debian's Chromium and ChromeDriver for tests/test_browser.py (root; the tests also call it).
chromium:
	bash scripts/ensure_chromium.sh

clean:
	rm -rf $(VENV) build .pytest_cache .hypothesis  # never student/ nor grading/: people's work
