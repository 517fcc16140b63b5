# make serve: set up .venv with the package alone, build the index from seeds/ on first start, serve.
# make test:  set up .venv with the test, eval, ray and docs extras too, run the whole test suite.
# make docs:  build the documentation site (docs/) strictly into site/.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check
# One stamp per install, each redone when pyproject.toml changes. The test install is a
# superset of the others, so it stamps them too; a serve install leaves the test stamp
# alone, so `make test` after `make serve` still adds the extras.
SERVE_STAMP := $(VENV)/.installed-serve
DOCS_STAMP  := $(VENV)/.installed-docs
TEST_STAMP  := $(VENV)/.installed-test
SITE   := site

.PHONY: install install-serve install-docs serve test test-fast lint contract docs clean browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch==2.13.0 comes from the CPU wheel pip finds.
$(SERVE_STAMP): pyproject.toml | $(BIN)/python
	$(PIP) -e .
	touch $@

$(DOCS_STAMP): pyproject.toml | $(BIN)/python
	$(PIP) -e '.[docs]'
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(PIP) -e '.[test,eval,ray,docs]'
	touch $@ $(SERVE_STAMP) $(DOCS_STAMP)

install-serve: $(SERVE_STAMP)
install-docs: $(DOCS_STAMP)
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

# mypy checks the builders of the /search and /ask bodies (dicts) against their declared
# shapes (api/models.py), every key; imports are followed silently, the rest is not yet clean.
lint: install
	$(BIN)/ruff check index search api evaluation tests eval docs
	$(BIN)/ruff format --check index search api evaluation tests eval docs
	$(BIN)/lint-imports
	$(BIN)/python -m mypy --follow-imports=silent api/bodies.py

# schemathesis with every check against a served index (docs/api.md).
contract: install
	bash .ci/contract

# The HTTP API, command line and settings pages are generated at build time (docs/hooks.py);
# --strict fails on a broken link or a page missing from the navigation.
docs: install-docs
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m mkdocs build --strict --site-dir $(SITE)

clean:
	rm -rf $(VENV) data $(SITE)
