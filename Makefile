# engage: `make run` serves the demo site, `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.requirements-installed
PORT ?= 5000
FLASK := $(BIN)/flask --app engage
# The tests run in one process a core (pytest-xdist); PYTEST_ARGS= runs them in one.
PYTEST_ARGS ?= -n $(shell nproc 2>/dev/null || echo 2)

.PHONY: run test lint translations compile-translations browser-deps db-upgrade demo worker bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt
	touch $(STAMP)

compile-translations: $(STAMP)
	@$(BIN)/pybabel compile -d translations 2>&1 | grep -v '^compiling catalog' || true

db-upgrade: $(STAMP) compile-translations
	mkdir -p instance
	$(FLASK) db upgrade

demo: db-upgrade
	$(FLASK) demo

run: demo
	@echo "engage is at http://127.0.0.1:$(PORT)  (Ctrl-C stops it)"
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

worker: db-upgrade
	$(FLASK) worker

test: $(STAMP) compile-translations browser-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check engage tests config.py bench
	$(BIN)/ruff format --check engage tests config.py bench

# Re-extract every string, merge into each catalog, and compile.
translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 --add-comments=TRANSLATORS: --no-location --sort-output \
		--project engage --version 0.1 --copyright-holder "engage contributors" -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile -d translations

# Debian's Chromium and CJK fonts for the browser tests. Without root or apt the
# browser tests are skipped with a message; everything else still runs.
browser-deps:
	@if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing chromium and fonts-noto-cjk for the browser tests..."; \
		(apt-get install -y -q chromium fonts-noto-cjk >/dev/null 2>&1 || \
		 (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium fonts-noto-cjk >/dev/null 2>&1)) || \
		echo "Could not install chromium: the browser tests will be skipped."; \
	else echo "chromium or fonts-noto-cjk missing and cannot be installed here: the browser tests will be skipped."; fi

# Benchmarks (docs/benchmarks.md): pages, and text messages on PostgreSQL and SQLite.
# BENCH_ARGS picks a suite or changes settings, e.g. BENCH_ARGS="sms --only webhook --rounds 2".
# Exits non-zero when a figure misses its target.
bench: $(STAMP) compile-translations
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf build .pytest_cache
