# The two commands of the README: `make run` and `make test`. Everything else supports them.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
export DJANGO_SETTINGS_MODULE := functions_ui.settings

.PHONY: run test setup setup-test system-deps lint fmt bench worker migrate clean lock

run: setup migrate
	$(PY) manage.py seed_demo
	$(PY) manage.py serve

test: setup-test
	@mkdir -p .var
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(PY) -m pytest
	@# Again on PostgreSQL, the pipeline, fault and concurrency tests (marked `postgres`).
	@# pytest's exit 5 (nothing collected) fails the run: a marker lost must not pass unseen.
	$(PY) -m functions_ui.devserver.with_postgres -- $(PY) -m pytest -m postgres \
		|| { rc=$$?; ((rc != 5)) || echo "No test is marked postgres: nothing ran on PostgreSQL." >&2; exit $$rc; }

bench: setup migrate
	@functions_ui/devserver/system_deps.sh --postgres
	$(PY) manage.py bench

worker: setup
	$(PY) -m celery -A functions_ui worker --loglevel INFO

migrate: setup
	@mkdir -p .var
	$(PY) manage.py migrate --noinput -v 0

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

fmt: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

SANDBOX_JS := functions_ui/runtime/js/build/sandbox.js

setup: $(VENV)/.installed static/build/editor.js static/build/charts.js $(SANDBOX_JS)
	@functions_ui/devserver/system_deps.sh

setup-test: $(VENV)/.installed static/build/editor.js static/build/charts.js $(SANDBOX_JS)
	@functions_ui/devserver/system_deps.sh --browser

# Exact versions from requirements.lock, which `make lock` writes from pyproject.toml.
$(VENV)/.installed: requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.lock
	@touch $@

lock: $(VENV)/.installed
	$(PY) -m pip install -q uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --python-version 3.11 \
		--no-header -o requirements.lock

node_modules/.installed: package.json package-lock.json
	@functions_ui/devserver/system_deps.sh --build-tools
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The editor bundle is built, never committed: CodeMirror comes from package-lock.json.
static/build/editor.js: static/js/editor.js node_modules/.installed
	node_modules/.bin/esbuild static/js/editor.js --bundle --minify --format=iife \
		--target=es2020 --log-level=warning --outfile=$@

# The metric charts: uPlot from package-lock.json, with its stylesheet beside the script.
static/build/charts.js: static/js/charts.js node_modules/.installed
	node_modules/.bin/esbuild static/js/charts.js --bundle --minify --format=iife \
		--target=es2020 --log-level=warning --outfile=$@

# The runtime inside each function's isolate (Buffer and the web APIs in plain JavaScript, with
# lodash loaded on first use), bundled for isolated-vm, which has no module loader.
$(SANDBOX_JS): $(wildcard functions_ui/runtime/js/sandbox/*.js) node_modules/.installed
	node_modules/.bin/esbuild functions_ui/runtime/js/sandbox/index.js --bundle --format=iife \
		--platform=neutral --main-fields=main,module --target=es2022 --define:global=globalThis --log-level=warning --outfile=$@

clean:
	rm -rf $(VENV) node_modules .var static/build functions_ui/runtime/js/build
