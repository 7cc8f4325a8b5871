# Sozialmonitor: `make run` tries it out, `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
WORKSPACE ?= arbeitsbereich

.PHONY: run test lint typecheck bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	@test -e $(WORKSPACE)/katalog.toml || $(BIN)/sozialmonitor init $(WORKSPACE) --demo
	$(BIN)/sozialmonitor --workspace $(WORKSPACE) run

lint: $(VENV)/.installed-test
	$(BIN)/ruff check bot watchers storage commands tests bench

# Types: strict for storage/, watchers/ and bot/, default for commands/ (pyproject.toml, [tool.mypy]).
typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

test: $(VENV)/.installed-test lint typecheck
	$(BIN)/python -m pytest -q

bench: $(VENV)/.installed-test
	rm -f bench/results/verdicts.jsonl
	for b in store coverage store_write ingest bot report; do $(BIN)/python bench/$$b.py || exit 1; done
	$(BIN)/python bench/summary.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache build *.egg-info
