# wudan (五单): `make run` starts the service with the demo town, `make test` runs the tests.
# Both create the virtualenv in .venv first if it is missing or older than pyproject.toml.

PYTHON = python3
VENV = .venv
STAMP = $(VENV)/.installed

# Override on the command line: make run HOST=0.0.0.0 PORT=9000
HOST = 127.0.0.1
PORT = 8000
# Extra pytest arguments: make test PYTEST_ARGS="-x -k rating"
PYTEST_ARGS ?=
# Test processes (pytest-xdist): each has its own SQLite files and PostgreSQL database.
# Most tests wait on a database or a socket, so 2 fill 2 cores; TEST_PROCESSES=0 runs in one.
TEST_PROCESSES ?= 2

.DEFAULT_GOAL := help
.PHONY: help venv run test test-python test-miniprogram

help:
	@echo "make run    start wudan on http://$(HOST):$(PORT) with SQLite in ./data and the demo town"
	@echo "make test   run the tests: the service's (SQLite, and PostgreSQL when one is reachable), then the mini-program's"
	@echo "make venv   create $(VENV) and install the project with its test extras"

venv: $(STAMP)

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "wudan needs Python 3.11 or newer; $(PYTHON) is $$($(PYTHON) --version 2>&1)" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

# Reinstall whenever pyproject.toml changes (new or changed dependencies).
$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/pip install -e '.[test]'
	@touch $@

run: $(STAMP)
	$(VENV)/bin/wudan serve --demo --host $(HOST) --port $(PORT)

test: test-python test-miniprogram

test-python: $(STAMP)
	$(VENV)/bin/pytest -n $(TEST_PROCESSES) $(PYTEST_ARGS)

# The mini-program's jest suite (its contract tests start the service from $(VENV)). Without
# npm it is skipped, except under CI, where that is a failure.
test-miniprogram: $(STAMP)
	@if command -v npm >/dev/null 2>&1; then \
		cd miniprogram && npm ci --no-audit --no-fund && npm test; \
	elif [ -n "$$CI" ]; then \
		echo "npm is needed for the mini-program's tests (apt-get install nodejs npm)" >&2; exit 1; \
	else \
		echo "npm not found: the mini-program's tests are skipped (apt-get install nodejs npm)"; \
	fi
