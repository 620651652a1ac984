# The two commands of the README: `make run` and `make test`. Both set everything up first.
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin

export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)

.PHONY: setup run test lint typecheck unit clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

$(BIN)/shiporskip: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen
	@touch $@

setup: $(BIN)/shiporskip  ## Install the locked dependencies into .venv

run: setup  ## Set up and serve the site with the sample catalog at http://127.0.0.1:8000
	$(BIN)/shiporskip serve

lint: setup
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench

typecheck: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/pytest

test: lint typecheck unit  ## Set up and run the whole test suite (what CI runs)

clean:
	rm -rf $(TOOLS) $(VENV) .pytest_cache .mypy_cache .ruff_cache
