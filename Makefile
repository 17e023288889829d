# Toolgate: `make run` starts the demo site, `make test` runs every check. Both set themselves up.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# make gate-demo RELAY=shelly READER=pn532: the demo gate on any backend's twin (docs/pi-install.md).
RELAY ?= simulated
READER ?= stdin

.PHONY: run gate-demo test lint messages mutation screenshots venv system-packages bench-load clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

# Debian packages the test suite drives for real (Chromium for browser tests, Mosquitto broker).
system-packages:
	scripts/ensure-system-packages

# The site, Mosquitto (installed when missing; a broker already listening on GATE_BROKER_URL is
# used as it is), one gate bridge, and the task worker with its scheduler. Ctrl-C stops all.
run: $(STAMP)
	scripts/ensure-system-packages mosquitto
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py seed_demo
	DEBUG=1 $(BIN)/python manage.py run_dev $(HOST):$(PORT)

# A simulated gate on Laser cutter A in this terminal, against the broker and bridge of `make run`.
gate-demo: $(STAMP)
	DEBUG=1 $(BIN)/python manage.py gate_demo --relay $(RELAY) --reader $(READER)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

test: $(STAMP) system-packages lint
	$(BIN)/pytest

# Every catalogue brought up to date with the code and compiled (docs/i18n.md); the compiled .mo
# files are committed, so `make run` and `make test` need no gettext. APPS=membership: only one.
messages: $(STAMP)
	scripts/ensure-system-packages gettext
	scripts/messages $(APPS)

# Screenshots of the main pages at desktop and phone sizes (docs/screenshots/, and the README's
# docs/screenshot.png), from a fresh demo site in headless Chromium.
screenshots: $(STAMP) system-packages
	$(BIN)/python scripts/screenshots.py

# Mutation testing of the safety core (docs/testing.md): minutes, two workers, not part of `make test`.
mutation: $(STAMP)
	$(BIN)/python scripts/mutation.py

# The site under load (docs/performance.md): gunicorn on PostgreSQL on loopback, driven by locust
# from its own virtualenv (.venv-load), for MINUTES minutes (LOAD_ARGS: more of bench/load.py's
# options). Needs PostgreSQL on 127.0.0.1:5432.
MINUTES ?= 5
LOAD_VENV := .venv-load
$(LOAD_VENV)/.installed: bench/requirements-load.txt
	test -x $(LOAD_VENV)/bin/python || $(PYTHON) -m venv $(LOAD_VENV)
	$(LOAD_VENV)/bin/pip install --quiet -r bench/requirements-load.txt
	touch $@

bench-load: $(STAMP) $(LOAD_VENV)/.installed
	nice $(BIN)/python bench/load.py --minutes $(MINUTES) --locust $(LOAD_VENV)/bin/locust $(LOAD_ARGS)

clean:
	rm -rf $(VENV) $(LOAD_VENV) db.sqlite3 staticfiles .pytest_cache .ruff_cache .mypy_cache
