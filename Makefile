# Two commands set up a fresh machine: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install demo serve test lint bench chromium

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

# The console's browser tests drive the system's Chromium (Debian's package); installed here when missing and
# this runs as root (CI does). Without it the browser tests skip, or fail under CI=true (tests/prerequisites.py).
chromium:
	@command -v chromium >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || { \
		echo "installing chromium (apt-get) for the console's browser tests"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
		echo "chromium could not be installed: the browser tests will say so"; }

test: install chromium
	$(BIN)/ruff check .
	$(BIN)/lint-imports  # the layers of .importlinter
	$(BIN)/mypy  # the packages named in pyproject's [tool.mypy]
	$(BIN)/pytest -q -n 2 --dist loadgroup

bench: install
	$(BIN)/python -m bench.run_all
