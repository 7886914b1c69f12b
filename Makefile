# Chợ Nổi: `make run` serves the site with demo data, `make test` runs the tests.
# Both create (or reuse) the virtual environment in .venv first.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
PYTEST_ARGS ?=
BENCH_ARGS ?=
BENCH_STATS_ARGS ?=
LOAD_ARGS ?=
# Chart.js for the officials' dashboard: installed by npm from package-lock.json, copied into
# the static files (gitignored). Nothing is fetched from a CDN at run time.
CHART_JS := marketplace/static/vendor/chart.umd.min.js

.PHONY: run test lint audit messages check-messages bench bench-stats load clean help

help:
	@echo "make run    serve http://127.0.0.1:8000 with a worker, the scheduler and demo data"
	@echo "make test   run the whole test suite (PYTEST_ARGS=... to narrow it)"
	@echo "make lint   ruff check"
	@echo "make audit  report dependencies with published vulnerabilities (pip-audit; never fails)"
	@echo "make messages        refresh the translation catalogues (needs gettext)"
	@echo "make check-messages  fail on untranslated or fuzzy catalogue entries"
	@echo "make bench  every benchmark on PostgreSQL, one table (BENCH_ARGS=--help for options)"
	@echo "make bench-stats     only the sales statistics benchmark (BENCH_STATS_ARGS=--help)"
	@echo "make load   the whole site under a mixed locust load, stepped up (LOAD_ARGS=--help)"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Stamps record which requirements are installed; editing a requirements file reinstalls.
$(VENV)/.run-installed: requirements.txt | $(PY) $(CHART_JS)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(PY) $(CHART_JS)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.run-installed

# Without npm the dashboard still shows its tables and map, only without charts.
$(CHART_JS): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --ignore-scripts --no-audit --no-fund --loglevel=error && \
		mkdir -p $(@D) && cp node_modules/chart.js/dist/chart.umd.min.js.map $(@D)/ && \
		cp node_modules/chart.js/dist/chart.umd.min.js $@; \
	else \
		echo "npm not found: the officials' dashboard will show tables without charts"; \
	fi

run: $(CHART_JS) $(VENV)/.run-installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	$(PY) manage.py rundev

test: $(CHART_JS) $(VENV)/.dev-installed
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .

# A report, not a gate: a newly published advisory must not stop every build (docs/operations.md).
audit: $(VENV)/.dev-installed
	$(PY) scripts/audit.py

messages: $(VENV)/.dev-installed
	$(PY) manage.py makemessages --locale vi --locale en --ignore '.venv/*' --ignore 'var/*' --ignore 'tests/*' --ignore 'bench/*' --no-obsolete
	$(PY) scripts/i18n.py fill-en
	$(PY) manage.py compilemessages --ignore '.venv/*'

check-messages: $(VENV)/.dev-installed
	$(PY) scripts/i18n.py check

# Not part of the tests: each figure beside its baseline, measured in the same run, printed as
# one table with the machine (docs/performance.md; results in var/bench/): the catalogue against
# its raw-SQL floor, checkout throughput, webhook acknowledgement, photo processing against plain
# Pillow, and the sales statistics at 10 thousand and 1 million order lines. BENCH_ARGS go to
# bench.all (--quick, --skip stats, --only checkout,webhook, --stats-args "...").
bench: $(VENV)/.dev-installed
	$(PY) -m bench.all $(BENCH_ARGS)

bench-stats: $(VENV)/.dev-installed
	$(PY) -m bench.stats $(BENCH_STATS_ARGS)

# Not part of the tests: buyers, checkouts, households and officials from locust against gunicorn,
# a real Celery worker and a private Redis, stepped up until a request fails or p95 reaches 500 ms
# (docs/performance.md; results in var/bench/load.json). Locust is installed only here.
$(VENV)/.load-installed: requirements.txt requirements-dev.txt requirements-load.txt | $(PY) $(CHART_JS)
	$(PY) -m pip install --quiet -r requirements-load.txt
	touch $@ $(VENV)/.dev-installed $(VENV)/.run-installed

load: $(VENV)/.load-installed
	$(PY) -m bench.load $(LOAD_ARGS)

clean:
	rm -rf $(VENV) var node_modules marketplace/static/vendor
