# Everyday commands. `make demo` runs the app with demo data; `make test` runs the test suite.
VENV ?= .venv
PYTHON ?= python3
POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: demo serve test test-postgres lint format bench

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e ".[test]"
	touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/homeprogram demo

serve: $(VENV)/.installed
	$(VENV)/bin/homeprogram serve

test: $(VENV)/.installed
	$(VENV)/bin/pytest

test-postgres: $(VENV)/.installed
	HOMEPROGRAM_TEST_POSTGRES_URL=$(POSTGRES_URL) $(VENV)/bin/pytest

bench: $(VENV)/.installed
	$(VENV)/bin/pip install --quiet -e ".[test,bench]"
	$(VENV)/bin/python bench/load.py
	PYTHON=$(VENV)/bin/python bash bench/lighthouse.sh

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .
