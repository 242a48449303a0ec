# Shipway: `make run` brings the platform up, `make test` runs the tests.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test lint format venv runtimes sdk bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

venv: $(VENV)/.installed

run: venv
	$(PY) manage.py runplatform

test: venv
	$(PY) -m pytest

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

runtimes: venv
	$(PY) manage.py runtimes build --missing-only

# The SDKs from the server's OpenAPI schema: sdk/openapi.json, then the TypeScript types
# (sdk/typescript/src/schema.ts) and the Python package (sdk/python/shipway_sdk).
# tests/sdk/test_generated.py fails when the committed ones differ from a fresh run.
sdk: venv
	$(PY) manage.py spectacular --format openapi-json --file sdk/openapi.json
	cd sdk/typescript && npm ci --no-audit --no-fund && npm run generate
	cd sdk/python && ../../$(VENV)/bin/openapi-python-client generate --path ../openapi.json \
		--meta none --output-path shipway_sdk --config generator.yaml --overwrite

clean:
	rm -rf $(VENV) var
