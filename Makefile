# Everyday commands. `make demo` runs the app with demo data; `make test` runs the test suite.
VENV ?= .venv
PYTHON ?= python3
PORT ?= 5000
POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
# Every dependency at the version CI tested (`make lock` refreshes it). Given to pip as
# PIP_CONSTRAINT, so it also pins what builds the package (hatchling).
LOCK := constraints.txt
UV_VERSION := 0.13.9
PIP_INSTALL = PIP_CONSTRAINT="$(CURDIR)/$(LOCK)" $(VENV)/bin/pip install --quiet

.PHONY: demo serve test test-postgres lint format bench lock mutation icons screenshots catalogs messages

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip

# Two stamps in one virtual environment: the app alone (demo, serve), and the app with
# the test tools (pytest, Playwright, ruff...). `make test` after `make demo` adds the latter.
$(VENV)/.installed-app: pyproject.toml $(LOCK) | $(VENV)/bin/python
	$(PIP_INSTALL) -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(LOCK) | $(VENV)/bin/python
	$(PIP_INSTALL) -e ".[test]"
	touch $@

$(VENV)/.installed-bench: pyproject.toml $(LOCK) | $(VENV)/bin/python
	$(PIP_INSTALL) -e ".[test,bench]"
	touch $@

$(VENV)/.installed-mutation: pyproject.toml $(LOCK) | $(VENV)/bin/python
	$(PIP_INSTALL) -e ".[test,mutation]"
	touch $@

# The message catalogs' .mo files (not in git): compiled again when a .po file is newer.
catalogs: | $(VENV)/bin/python
	$(VENV)/bin/python -m homeprogram.catalogs

# After changing strings: extract them and merge them into every catalog (docs/translating.md).
messages: $(VENV)/.installed-test
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 \
		--sort-output --no-location --project homeprogram -o homeprogram/translations/messages.pot .
	$(VENV)/bin/pybabel update -i homeprogram/translations/messages.pot -d homeprogram/translations \
		--no-fuzzy-matching --width 100

demo: $(VENV)/.installed-app catalogs
	$(VENV)/bin/homeprogram demo --port $(PORT)

serve: $(VENV)/.installed-app catalogs
	$(VENV)/bin/homeprogram serve --port $(PORT)

test: $(VENV)/.installed-test catalogs
	$(VENV)/bin/pytest

test-postgres: $(VENV)/.installed-test catalogs
	HOMEPROGRAM_TEST_POSTGRES_URL=$(POSTGRES_URL) $(VENV)/bin/pytest

bench: $(VENV)/.installed-bench
	$(VENV)/bin/python bench/load.py
	PYTHON=$(VENV)/bin/python bash bench/lighthouse.sh

# Mutation testing of the child-data and nothing-lost rules (scripts/mutation.py); not part
# of CI. SQLite first, then the survivors on PostgreSQL at $(POSTGRES_URL) when it answers.
# `make mutation MODULES="claims invites"` runs some modules. Low priority (nice).
mutation: $(VENV)/.installed-mutation
	nice -n 10 $(VENV)/bin/python scripts/mutation.py --postgres "$(POSTGRES_URL)" $(MODULES)

# The PNG app icons, drawn from static/icons/app-icon.svg by the system Chromium.
icons: $(VENV)/.installed-test
	$(VENV)/bin/python scripts/make_icons.py

# docs/screenshots/*.png from the demo data on a pinned day (scripts/screenshots.py).
screenshots: $(VENV)/.installed-test
	$(VENV)/bin/python scripts/screenshots.py

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed-test
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Rewrite $(LOCK) from pyproject.toml: a new or changed dependency is resolved, every other
# pin is kept. `make lock UPGRADE=1` moves everything to its newest release instead.
# uv runs from a throwaway virtual environment (and cache) that is removed afterwards.
lock:
	@tool="$$(mktemp -d)" && trap 'rm -rf "$$tool"' EXIT && \
	$(PYTHON) -m venv "$$tool/venv" && \
	"$$tool/venv/bin/pip" install --quiet "uv==$(UV_VERSION)" && \
	UV_CACHE_DIR="$$tool/cache" "$$tool/venv/bin/uv" pip compile pyproject.toml \
		--all-extras --universal --python-version 3.11 $(if $(UPGRADE),--upgrade) \
		--custom-compile-command "make lock" --quiet --output-file $(LOCK)
	@echo "$(LOCK) written; commit it with pyproject.toml."
