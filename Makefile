# Crosswalk developer entry points. `make run` and `make test` are the README's
# quick start: each sets up the virtual environment from pyproject.toml first,
# and the browser-test pieces (Debian's chromium, axe-core from npm) beside it.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BROWSER_STAMP := tests/browser/node_modules/.installed

.PHONY: setup run test lint check bench clean chromium

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Browser tests need Debian's chromium and axe-core. A machine that cannot get
# them still sets up: the browser tests then skip with a notice (CI requires them).
$(BROWSER_STAMP): tests/browser/package.json tests/browser/package-lock.json
	@command -v chromium >/dev/null 2>&1 || $(MAKE) --no-print-directory chromium
	@if command -v npm >/dev/null 2>&1; then \
	  (cd tests/browser && npm ci --no-audit --no-fund --silent) && touch $@ \
	  || echo "make: axe-core could not be installed: browser tests will be skipped"; \
	else echo "make: npm not found: browser tests will be skipped"; fi

chromium:
	@if [ "$$(id -u)" = 0 ]; then \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null \
	  || (apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null) \
	  || echo "make: chromium could not be installed: browser tests will be skipped"; \
	elif command -v sudo >/dev/null 2>&1; then \
	  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null \
	  || echo "make: chromium could not be installed: browser tests will be skipped"; \
	else echo "make: not root and no sudo: chromium not installed, browser tests will be skipped"; fi

setup: $(STAMP) $(BROWSER_STAMP)

run: setup
	$(BIN)/crosswalk demo

test: setup
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

check: lint test

bench: setup
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache tests/browser/node_modules
