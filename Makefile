# The two commands of the README, and the steps they are made of.
#   make run    install what is missing, then serve the platform with the sample data
#   make test   install what is missing, then run the whole test suite (what CI runs)
#   make check  lint, then the tests not marked slow (local work: minutes, not the whole suite)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test check deps system-deps lint bench-load clean

run: deps
	$(BIN)/emining serve --host $(HOST) --port $(PORT)

test: deps
	sh scripts/install-system-deps.sh test
	$(BIN)/ruff check .
	$(BIN)/pytest

check: deps
	sh scripts/install-system-deps.sh test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -m "not slow"

deps: system-deps $(VENV)/.installed

system-deps:
	sh scripts/install-system-deps.sh run

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

lint: deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench-load: deps
	$(BIN)/python bench/load.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
