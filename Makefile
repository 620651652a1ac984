# The two commands of the README: `make run` and `make test`. Both set everything up first.
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
BIN := .venv/bin
CHROMIUM := /usr/bin/chromium
NGINX := /usr/sbin/nginx

export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)

.PHONY: setup setup-dev run test lint typecheck unit bench screenshots clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

setup: $(UV)  ## The locked runtime dependencies in .venv
	$(UV) sync --frozen

# The test suite also needs the `local` extra (llama-cpp-python, compiled once and cached
# by uv: a few minutes the first time) for the real local-LLM tests, Debian's
# Chromium for the browser tests (Playwright drives it; it downloads no browser of its own),
# and Debian's nginx for the scaled-out test (tests/multinode, docs/deploy.md).
setup-dev: $(UV) $(CHROMIUM) $(NGINX)
	$(UV) sync --frozen --all-extras

# Installed with apt-get where we may (root on Debian, as in CI); elsewhere the browser
# tests skip themselves, except under CI=true where they must run.
$(CHROMIUM):
	@if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		echo "Installing Debian's chromium for the browser tests"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -q && apt-get install -y -q chromium; \
	elif [ "$$CI" = true ]; then \
		echo "The browser tests need Debian's chromium at $@; install it as root"; exit 1; \
	else \
		echo "No $@: the browser tests will be skipped (apt-get install chromium)"; \
	fi

# Installed the same way; the test starts its own nginx (its own config, port and temp dir,
# in the foreground) and never uses the system's.
$(NGINX):
	@if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		echo "Installing Debian's nginx for the scaled-out test"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -q && apt-get install -y -q nginx; \
	elif [ "$$CI" = true ]; then \
		echo "The scaled-out test needs Debian's nginx at $@; install it as root"; exit 1; \
	else \
		echo "No $@: the scaled-out test will be skipped (apt-get install nginx)"; \
	fi

run: setup  ## Set up and serve the site with the sample content at http://127.0.0.1:8000
	$(BIN)/shiporskip serve

lint: setup-dev
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench

typecheck: setup-dev
	$(BIN)/mypy

unit: setup-dev
	$(BIN)/pytest

test: lint typecheck unit  ## Set up and run the whole test suite (what CI runs)

screenshots: setup-dev  ## Refresh docs/screenshots from the browser tests
	SHIPORSKIP_SCREENSHOTS=$(CURDIR)/docs/screenshots $(BIN)/pytest -q tests/browser

# `make bench` runs every part and writes docs/BENCHMARKS.md; `make bench BENCH="render
# cache-mix"` runs some parts and only prints them (names: `python -m bench --help` lists).
bench: setup-dev  ## Run the benchmark suite; writes docs/BENCHMARKS.md
	@command -v wrk >/dev/null || { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
		apt-get install -y -q wrk; } || echo "No wrk: page figures come from the Python client only"
	$(BIN)/python -m bench $(BENCH)

clean:
	rm -rf $(TOOLS) .venv .pytest_cache .mypy_cache .ruff_cache
