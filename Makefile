# Two entry points: `make run` starts the stack, `make test` runs the tests.
# Both create .venv and install the project into it when that is missing or stale.
# VENV=<dir> NO_INSTALL=1 uses an existing environment as it is (the docs test does).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test test-slow lint bench clean browser

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

run: $(if $(NO_INSTALL),,$(STAMP))
	$(BIN)/python -m scripts.run_stack

test: $(STAMP) $(if $(NO_INSTALL),,browser)
	$(BIN)/python -m pytest -q

# The console's browser tests drive Debian's chromium with its chromedriver: installed here
# when missing and run as root (CI); otherwise those tests skip and say so.
browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver; \
	  else echo "chromium/chromium-driver missing and not root: the browser tests will skip"; fi; \
	fi

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .enodo
