# Two entry points: `make run` starts the stack, `make test` runs the tests.
# Both create .venv and install the project into it when that is missing or stale.
# VENV=<dir> NO_INSTALL=1 uses an existing environment as it is (the docs test does).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test test-slow lint bench clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

run: $(if $(NO_INSTALL),,$(STAMP))
	$(BIN)/python -m scripts.run_stack

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .enodo
