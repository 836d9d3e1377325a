# Two commands do all the set-up:  `make lab` opens the course,  `make test` runs every test.
# Both create .venv on first use and reinstall only when a requirements file changes. VENV=path
# names another environment; one that exists already (conda: VENV=$CONDA_PREFIX) is installed
# into, not re-created.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PIP    := $(BIN)/python -m pip --disable-pip-version-check
ASSETS := site/node_modules/.package-lock.json

.PHONY: lab test execute clean assets system

$(STAMP): requirements.txt requirements-d2l.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q -r requirements.txt
	$(PIP) install -q --no-deps -r requirements-d2l.txt   # d2l's own pins are stale: see that file
	$(PIP) install -q --no-deps -e .
	touch $@

# JupyterLab on notebooks/, on 127.0.0.1 only, with token authentication left on. As root (as in
# containers) it needs --allow-root; with no display it opens no browser and prints its link.
# jupyter-config/ adds Lab defaults (no "get notified about Jupyter news?" pop-up).
LAB_FLAGS := $(if $(filter 0,$(shell id -u)),--allow-root) \
             $(if $(or $(DISPLAY),$(WAYLAND_DISPLAY),$(filter Darwin,$(shell uname -s))),,--no-browser)
lab: $(STAMP)
	JUPYTER_CONFIG_PATH=$(CURDIR)/jupyter-config $(BIN)/jupyter lab --notebook-dir=notebooks --ServerApp.ip=127.0.0.1 $(LAB_FLAGS)

# JupyterLab for teaching live (README, "Presenting live"): as `make lab`, plus the defaults in
# jupyter-config/present/: Simple Interface at start, Alt+P for View > Presentation Mode, and a
# custom.css that sets 24 px text and 22 px code in Presentation Mode. Lab reads custom.css only
# from JUPYTER_CONFIG_DIR, so presenting gets its own, git-ignored one in build/jupyter-present
# (with its own settings and workspaces).
PRESENT_DIR := build/jupyter-present
.PHONY: present
present: $(STAMP) $(PRESENT_DIR)/custom/custom.css
	JUPYTER_CONFIG_DIR=$(CURDIR)/$(PRESENT_DIR) \
	JUPYTER_CONFIG_PATH=$(CURDIR)/jupyter-config/present:$(CURDIR)/jupyter-config \
	$(BIN)/jupyter lab --notebook-dir=notebooks --ServerApp.ip=127.0.0.1 --custom-css $(LAB_FLAGS)

$(PRESENT_DIR)/custom/custom.css: jupyter-config/present/custom/custom.css
	mkdir -p $(@D)
	cp $< $@

# Unit tests of course_utils, the site, the slides and the browser tests, and nbval re-executing
# every notebook of both editions with strict output comparison, in two pytest-xdist workers
# (--dist loadscope keeps a notebook's cells, or a test module, in one worker). Installs first
# what the tests use; no test installs.
test: system $(STAMP) assets
	$(BIN)/python -m pytest -n 2 --dist loadscope

# Debian's chromium, chromium-driver, a CJK font, npm and md4c's headers, when missing (apt-get,
# as root). First, so that pip can build pymd4c on Python 3.12+.
system:
	bash scripts/install_system_packages.sh "$(PYTHON)"

# The JavaScript of the site and the slides (MathJax 3, reveal.js, require.js, jQuery) from npm,
# at the versions and sha512 hashes of site/package-lock.json, into site/node_modules.
assets: $(ASSETS)
$(ASSETS): site/package.json site/package-lock.json
	@if command -v npm >/dev/null; then npm ci --prefix site --ignore-scripts --no-audit --no-fund; \
	else echo "npm not found: no site, no slides, and their tests will skip" >&2; fi

# The Chinese edition (README.zh.md): `make i18n` after editing an English notebook merges its
# changed messages into i18n/zh/NN.po (new ones empty, changed ones fuzzy, for a translator);
# `make zh` builds notebooks/zh/ from the catalogues and runs it to store its outputs.
.PHONY: i18n zh lab-zh
i18n: $(STAMP)
	$(BIN)/python scripts/i18n.py update
	$(BIN)/python scripts/i18n.py font
zh: $(STAMP)
	$(BIN)/python scripts/i18n.py build
	$(MAKE) execute NB="notebooks/zh/*.ipynb"

# JupyterLab on the Chinese edition with its own interface in Chinese (the zh-CN language pack;
# jupyter-config/zh sets the locale), otherwise as `make lab`.
lab-zh: $(STAMP)
	JUPYTER_CONFIG_PATH=$(CURDIR)/jupyter-config/zh:$(CURDIR)/jupyter-config $(BIN)/jupyter lab --notebook-dir=notebooks/zh --ServerApp.ip=127.0.0.1 $(LAB_FLAGS)

# Re-run notebooks in fresh kernels and store their outputs (all of them, or NB=path ...).
# Each runs in its own folder, as under nbval; no timestamps are written into the cells, and
# no widget state (with it, nbconvert's pages would load a widget manager from a CDN).
execute: $(STAMP)
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
	  --ExecutePreprocessor.kernel_name=python3 --ExecutePreprocessor.timeout=600 \
	  --ExecutePreprocessor.record_timing=False --ExecutePreprocessor.store_widget_state=False \
	  $(or $(NB),notebooks/*.ipynb)

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

# Slide decks of the notebooks (reveal.js, offline, 1280x720, speaker notes) in build/slides; the
# cuts come from scripts/slides.py's rule (cell metadata written by its --apply).
.PHONY: slides site
slides: $(STAMP) assets
	$(BIN)/python scripts/build_site.py slides

# The course site in build/site (Sphinx, myst-nb, sphinx-book-theme; configured in site/): the
# notebooks with their stored outputs, contents, search, a download link per notebook, all offline.
site: $(STAMP) assets
	$(BIN)/python scripts/build_site.py site

# Removes VENV only when it is a folder of the project (never VENV=$CONDA_PREFIX).
clean:
	rm -rf $(if $(filter /%,$(VENV)),,$(VENV)) build site/node_modules .pytest_cache .hypothesis  # never student/ nor grading/: people's work
