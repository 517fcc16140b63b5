# make serve: set up .venv if needed, build the index from seeds/ on first start, serve.
# make test:  set up .venv if needed, run the whole test suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install serve test test-fast lint contract clean browser

# Reinstall only when pyproject.toml changes; torch==2.13.0 comes from the CPU wheel pip finds.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,eval,ray]'
	touch $(STAMP)

install: $(STAMP)

serve: install
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
