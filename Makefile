# Two commands do everything on a fresh machine with Python 3.11:
#   make demo   set up, run the whole demo pipeline on built-in data, print where results are
#   make test   set up and run the tests
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME := $(CURDIR)
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: demo test setup ui validate lint docs clean

$(BIN)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $@

setup: $(BIN)/.installed
	$(BIN)/retention prepare

demo: setup
	$(BIN)/retention demo

test: setup
	$(BIN)/python -m pytest -n 2 --dist loadgroup

ui: setup
	$(BIN)/dagster dev -m orchestration.definitions -h 127.0.0.1 -p 3000

validate: setup
	$(BIN)/retention validate

lint: setup
	$(BIN)/ruff check .

docs: setup
	DUCKDB_PATH=$(CURDIR)/data/warehouse.duckdb $(BIN)/dbt docs generate --project-dir dbt_project --profiles-dir dbt_project

clean:
	rm -rf data .dagster_home dbt_project/target dbt_project/logs
