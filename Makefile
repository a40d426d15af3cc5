# Two commands set up a fresh machine: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install demo serve test lint bench

$(BIN)/lisa: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(BIN)/lisa

install: $(BIN)/lisa

demo: install
	$(BIN)/lisa demo

serve: install
	$(BIN)/lisa serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports  # the layers of .importlinter
	$(BIN)/pytest -q -n 2 --dist loadgroup

bench: install
	$(BIN)/python -m bench.run_all
