# skillatlas — two commands set up a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The embedded Dagster instance lives in the project unless the user chose another DAGSTER_HOME.
export DAGSTER_HOME ?= $(CURDIR)/.dagster

.PHONY: install instance run test ui lint bench bench-scale clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $@

instance:
	@mkdir -p "$(DAGSTER_HOME)"
	@test -f "$(DAGSTER_HOME)/dagster.yaml" || cp deploy/dagster.yaml "$(DAGSTER_HOME)/dagster.yaml"

run: install instance
	$(BIN)/python -m jobs.pipeline_run

test: install
	$(BIN)/python -m pytest

ui: install instance
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

# ruff, then mypy as configured in pyproject.toml ([tool.mypy]): strict on skillatlas/, the default on the Dagster layer.
lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: install
	@for b in benchmarks/bench_*.py; do [ "$$b" = benchmarks/bench_scale.py ] || $(BIN)/python $$b; done

# The scale benchmark needs PostgreSQL and RabbitMQ and takes long at its default 10,000 documents.
SCALE_DOCS ?= 10000
bench-scale: install
	$(BIN)/python benchmarks/bench_scale.py --docs $(SCALE_DOCS)

clean:
	rm -rf .dagster .pytest_cache
