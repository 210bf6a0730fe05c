# Two entry points: `make run` starts the stack, `make test` runs the tests.
# Both create .venv and install the project into it when that is missing or stale.
# VENV=<dir> NO_INSTALL=1 uses an existing environment as it is (the docs test does).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test test-slow lint bench clean system-deps screenshots

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

run: $(if $(NO_INSTALL),,$(STAMP))
	$(BIN)/python -m scripts.run_stack

# Two pytest-xdist workers (the suite's budget is 10 minutes on 2 cores), each test file
# whole on one of them (its module fixtures: one stack per file). Tests pick random ports and
# their own folders, so files run side by side; `pytest -n 0` runs them one at a time.
test: $(STAMP) $(if $(NO_INSTALL),,system-deps)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

# The console's screenshots in docs/ (taken by the browser tests; a plain `make test` saves none).
screenshots: $(STAMP) $(if $(NO_INSTALL),,system-deps)
	ENODO_SCREENSHOTS=$(CURDIR)/docs/screenshots $(BIN)/python -m pytest -q tests/integration/test_console_browser.py

# System packages the tests use: Debian's chromium and chromedriver (the console's browser
# tests), Prometheus (the metrics test scrapes a real stack with it) and Alertmanager (the
# alert tests deliver to a real one). Installed when
# missing and run as root (CI runs .ci/run as root); otherwise those tests skip and say so.
SYSTEM_DEPS := chromium:chromium chromedriver:chromium-driver prometheus:prometheus \
	prometheus-alertmanager:prometheus-alertmanager
system-deps:
	@missing=""; for pair in $(SYSTEM_DEPS); do \
	  command -v $${pair%%:*} >/dev/null || missing="$$missing $${pair#*:}"; done; \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	else echo "missing:$$missing (apt-get install as root): the tests that need them will skip"; fi

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .enodo
