# The two commands a newcomer needs: `make run` and `make test`.
# Both create .venv on first use and reinstall only when a requirements file changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: chaos browser run test lint typecheck unit integration app e2e infra localdev package policies bench openapi fuzz clean

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip<26.3"  # what chalice 1.34 accepts
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m localdev.run

test: $(STAMP) browser lint typecheck
	$(BIN)/python -m pytest

# Headless Chromium for the browser tests, from Debian's packages (Playwright launches this
# binary; it never downloads a browser), and axe-core from npm (pinned by
# tests/e2e/axe/package-lock.json) for their accessibility checks. Installed once; the Debian
# packages need root or sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
AXE := tests/e2e/axe/node_modules/axe-core/axe.min.js
browser: $(AXE)
	@command -v chromium >/dev/null || { \
	  echo "Installing Debian's chromium for the browser tests..."; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

$(AXE): tests/e2e/axe/package-lock.json
	@command -v npm >/dev/null || { \
	  echo "Installing Debian's npm for axe-core..."; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; }
	cd tests/e2e/axe && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit integration app e2e infra localdev: $(STAMP)
	$(BIN)/python -m pytest tests/$@

# Chaos at scale on the local runtime: 500 reservations through failing calls and crashing
# handlers (make test runs the same test with 60); prints the figures for docs/reliability.md
chaos: $(STAMP)
	CHAOS_RESERVATIONS=500 $(BIN)/python -m pytest tests/e2e/test_chaos.py -s -p no:cacheprovider

# make package STAGE=prod: dist/<stage>/sam.json (one deployable template) + deployment.zip
STAGE ?= prod
package: $(STAMP)
	$(BIN)/python -m infra.package --stage $(STAGE)

# Benchmarks: prints the tables and writes docs/performance.md (a few minutes)
bench: $(STAMP)
	$(BIN)/python -m bench.run

# docs/openapi.json from the app's routes and pydantic models (a test fails when it is stale)
openapi: $(STAMP)
	$(BIN)/python -m tests.app.openapi_file

# Longer than make test's bounded run: schemathesis over the contract (FUZZ_EXAMPLES cases per
# operation) and the domain's stateful properties (HYPOTHESIS_EXAMPLES sequences in memory,
# HYPOTHESIS_MOTO_EXAMPLES on the DynamoDB stores)
FUZZ_EXAMPLES ?= 1000
HYPOTHESIS_EXAMPLES ?= 2000
HYPOTHESIS_MOTO_EXAMPLES ?= 30
FUZZ_REPORT := $(or $(TMPDIR),/tmp)/reservations-fuzz.json
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) HYPOTHESIS_EXAMPLES=$(HYPOTHESIS_EXAMPLES) \
	  HYPOTHESIS_MOTO_EXAMPLES=$(HYPOTHESIS_MOTO_EXAMPLES) FUZZ_REPORT=$(FUZZ_REPORT) \
	  $(BIN)/python -m pytest -q -p no:cacheprovider --hypothesis-show-statistics \
	  tests/app/test_contract_fuzz.py tests/unit/test_domain_properties.py \
	  tests/integration/test_domain_properties_on_dynamodb.py
	@cat $(FUZZ_REPORT)

# Regenerate .chalice/policy-<stage>-<function>.json from infra/iam.py
policies: $(STAMP)
	$(BIN)/python -m infra.iam

clean:
	rm -rf $(VENV) dist .pytest_cache .mypy_cache .ruff_cache
