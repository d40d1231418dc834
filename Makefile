# Two entry points for a fresh machine: `make run` serves, `make test` tests.
# Both build .venv from pyproject.toml on first use (and again when it changes).
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean telnetlib3

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/videotex serve --demo

# the SMS tests' SMSC simulator: node-smpp, pinned by package-lock.json. Its tests skip only
# where node is missing; with node but no npm they fail, saying how to install it.
tests/sms/smsc/node_modules/.installed: tests/sms/smsc/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	    cd tests/sms/smsc && npm ci --silent --no-audit --no-fund && touch node_modules/.installed; \
	else echo "npm not found: no SMSC simulator for the SMS tests"; fi

test: $(STAMP) tests/sms/smsc/node_modules/.installed
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python .ci/telnetlib3_versions.py
	$(BIN)/pytest -q $(PYTEST_ARGS)

# the telnetlib3 hand-over with each tested release (a cached venv per release)
telnetlib3: $(STAMP)
	$(BIN)/python .ci/telnetlib3_versions.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache tests/sms/smsc/node_modules
