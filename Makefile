# Liuguan: `make run` (the product with demo data) and `make test` (the whole suite) do all set-up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCK_HASH := $(shell sha256sum requirements.lock | cut -c1-16)
INSTALLED := $(VENV)/.installed-$(LOCK_HASH)
PYTEST_ARGS ?=
# Tests run in parallel, one pytest worker per CPU (pytest-xdist); each worker has its own database and Temporal.
TEST_WORKERS ?= auto

.PHONY: help install assets run worker migrate test test-fast lint system-deps openapi bench bench-audit bench-cases bench-workflows bench-intake bench-sweep bench-reports bench-callbacks bench-case-path bench-memory relock clean replay-capture

help:
	@echo "make run    - start PostgreSQL, Temporal, the API and the worker with demo data (http://127.0.0.1:8000)"
	@echo "make test   - install everything the suite needs and run lint + the whole suite"
	@echo "make lint   - ruff and mypy"
	@echo "make bench  - benchmarks (print figures and ratios to a baseline)"

# The virtualenv is (re)built from the lock file whenever the lock changes.
$(INSTALLED): requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(INSTALLED)

# Page assets come from npm (frontend/package-lock.json) and are served by the app: no CDN on county intranets.
VENDOR := frontend/static/vendor
assets: $(VENDOR)/.built

$(VENDOR)/.built: frontend/package.json frontend/package-lock.json
	@command -v npm >/dev/null || { echo "make assets needs npm: sudo apt-get install -y npm (or make system-deps)"; exit 1; }
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp frontend/node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx.min.js
	cp frontend/node_modules/axe-core/axe.min.js $(VENDOR)/axe.min.js
	mkdir -p $(VENDOR)/swagger-ui
	cp frontend/node_modules/swagger-ui-dist/swagger-ui-bundle.js frontend/node_modules/swagger-ui-dist/swagger-ui.css $(VENDOR)/swagger-ui/
	cp frontend/node_modules/echarts/dist/echarts.min.js $(VENDOR)/echarts.min.js
	@touch $@

run: install assets
	$(BIN)/python -m backend.devservices.stack

migrate: install
	$(BIN)/python -m backend.cli db upgrade

worker: install
	$(BIN)/python -m workflows.worker

# Browser journeys need Debian's Chromium and CJK fonts (Playwright cannot download a browser here).
system-deps:
	@missing=""; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	test -d /usr/share/fonts/opentype/noto || fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || missing="$$missing fonts-noto-cjk"; \
	ldconfig -p | grep -q "libpangoft2-1.0.so.0" || missing="$$missing libpango-1.0-0 libpangoft2-1.0-0"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else \
	    echo "The browser tests need the Debian packages:$$missing. Install them as root:"; \
	    echo "  sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

lint: install
	$(BIN)/ruff check backend workflows frontend tests bench
	$(BIN)/ruff format --check backend workflows frontend tests bench
	$(BIN)/mypy backend workflows frontend bench

test: install system-deps assets lint
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

test-fast: install assets
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup -m "not e2e" $(PYTEST_ARGS)

# Write docs/openapi.json from the app (tests/backend/platform/test_openapi.py fails when it is out of date).
openapi: install
	$(BIN)/python -m backend.cli openapi --output docs/openapi.json

# Refresh the committed workflow histories that the replay tests replay (after an intended workflow change).
replay-capture: install
	RECORD_HISTORIES=1 $(BIN)/pytest tests/workflows -q

bench: bench-audit bench-cases bench-workflows bench-intake bench-sweep bench-reports bench-callbacks bench-case-path bench-memory

bench-audit: install
	$(BIN)/python -m bench.audit

bench-cases: install
	$(BIN)/python -m bench.cases

bench-workflows: install
	$(BIN)/python -m bench.workflows
bench-intake: install
	$(BIN)/python -m bench.intake
bench-sweep: install
	$(BIN)/python -m bench.sweep
bench-case-path: install
	$(BIN)/python -m bench.case_path
bench-memory: install
	$(BIN)/python -m bench.memory

bench-reports: install
	$(BIN)/python -m bench.reports

bench-callbacks: install
	$(BIN)/python -m bench.callbacks

# Regenerate the locks after changing dependencies in pyproject.toml: requirements.lock (everything, for
# development and the tests) and requirements.prod.lock (the image: runtime only, at the same versions).
relock: install
	$(BIN)/uv pip compile pyproject.toml --group dev --generate-hashes --python-version 3.11 -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --generate-hashes --python-version 3.11 -c requirements.lock -o requirements.prod.lock

clean:
	rm -rf $(VENV) var/test-pgdata
