# make serve: set up .venv with the package alone, build the index from seeds/ on first start, serve.
# make test:  set up .venv with the test, eval and ray extras too, run the whole test suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check
# One stamp per install, each redone when pyproject.toml changes. The test install is a
# superset of the serve install, so it stamps that too; a serve install leaves the test stamp
# alone, so `make test` after `make serve` still adds the extras.
SERVE_STAMP := $(VENV)/.installed-serve
TEST_STAMP  := $(VENV)/.installed-test

.PHONY: install install-serve serve test test-fast lint contract clean browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch==2.13.0 comes from the CPU wheel pip finds.
$(SERVE_STAMP): pyproject.toml | $(BIN)/python
	$(PIP) -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(PIP) -e '.[test,eval,ray]'
	touch $@ $(SERVE_STAMP)

install-serve: $(SERVE_STAMP)
install: $(TEST_STAMP)

serve: install-serve
	$(BIN)/parallax serve

# The browser tests drive Debian's Chromium (Playwright cannot download one here).
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium

browser: $(CHROMIUM)

test: install browser
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not slow"

lint: install
	$(BIN)/ruff check index search api evaluation tests eval
	$(BIN)/ruff format --check index search api evaluation tests eval
	$(BIN)/lint-imports

# schemathesis with every check against a served index (README, "HTTP API").
contract: install
	bash .ci/contract

clean:
	rm -rf $(VENV) data
