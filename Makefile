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

test: $(STAMP)
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
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
