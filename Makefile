# Two commands: `make run` serves the demo on the embedded runtime, `make test` runs the suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
BENCH_ARGS ?=
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test test-e2e bench lint typecheck format clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "需要 Python 3.11，当前为 " + sys.version' 
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

run: install
	@HOST=$(HOST) PORT=$(PORT) bin/dev

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-e2e: install
	$(BIN)/python -m pytest -m e2e tests/e2e $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m tests.bench.run $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

typecheck: install
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var staticfiles db.sqlite3 db.sqlite3-wal db.sqlite3-shm
