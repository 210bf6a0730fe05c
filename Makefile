# Two entry points: `make run` starts the stack, `make test` runs the tests.
# Both create .venv and install the project into it when that is missing or stale.
# VENV=<dir> NO_INSTALL=1 uses an existing environment as it is (the docs test does).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test test-slow lint bench clean system-deps

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

# System packages the tests use: Prometheus (the metrics test scrapes a real stack with it).
# Needs root (CI runs .ci/run as root); otherwise it says what is missing and that test skips.
system-deps:
	@if command -v prometheus >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus; \
	else echo "prometheus missing (apt-get install prometheus as root): its test will skip"; fi

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .enodo
