# The two commands of the README: `make run` and `make test`. Everything else supports them.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
export DJANGO_SETTINGS_MODULE := functions_ui.settings

.PHONY: run test setup setup-test system-deps lint fmt bench worker migrate clean

run: setup migrate
	$(PY) manage.py seed_demo
	$(PY) manage.py serve

test: setup-test
	@mkdir -p .var
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
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

fmt: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

SANDBOX_JS := functions_ui/runtime/js/build/sandbox.js

setup: $(VENV)/.installed static/build/editor.js $(SANDBOX_JS)
	@functions_ui/devserver/system_deps.sh

setup-test: $(VENV)/.installed static/build/editor.js $(SANDBOX_JS)
	@functions_ui/devserver/system_deps.sh --browser

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) functions_ui/devserver/pyproject_requirements.py dev > $(VENV)/requirements.txt
	$(PY) -m pip install -q -r $(VENV)/requirements.txt
	@touch $@

node_modules/.installed: package.json package-lock.json
	@functions_ui/devserver/system_deps.sh --build-tools
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The editor bundle is built, never committed: CodeMirror comes from package-lock.json.
static/build/editor.js: static/js/editor.js node_modules/.installed
	node_modules/.bin/esbuild static/js/editor.js --bundle --minify --format=iife \
		--target=es2020 --log-level=warning --outfile=$@

# The runtime inside each function's isolate (Buffer and the web APIs in plain JavaScript, with
# lodash loaded on first use), bundled for isolated-vm, which has no module loader.
$(SANDBOX_JS): $(wildcard functions_ui/runtime/js/sandbox/*.js) node_modules/.installed
	node_modules/.bin/esbuild functions_ui/runtime/js/sandbox/index.js --bundle --format=iife \
		--platform=neutral --main-fields=main,module --target=es2022 --define:global=globalThis --log-level=warning --outfile=$@

clean:
	rm -rf $(VENV) node_modules .var static/build functions_ui/runtime/js/build
