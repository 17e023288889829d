# Toolgate: `make run` starts the demo site, `make test` runs every check. Both set themselves up.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run gate-demo test lint venv system-packages clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

# Debian packages the test suite drives for real (Chromium for browser tests, Mosquitto broker).
system-packages:
	scripts/ensure-system-packages

run: $(STAMP)
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py seed_demo
	DEBUG=1 $(BIN)/python manage.py runserver $(HOST):$(PORT)

# The gate in a terminal: the MQTT bridge plus a simulated gate on Laser cutter A (needs the
# local Mosquitto that `make test` installs; run `make run` in another terminal for the site).
gate-demo: $(STAMP)
	(pgrep -x mosquitto >/dev/null || mosquitto -d)
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py seed_demo
	DEBUG=1 $(BIN)/python manage.py gate_bridge & bridge=$$!; \
	  trap "kill $$bridge" EXIT; \
	  TOOLGATE_GATE_SECRET=demo-only-gate-secret-do-not-use-in-production \
	  $(BIN)/python -m gate_agent --simulate --device-id laser-a --state-dir var/gate-demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

test: $(STAMP) system-packages lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache .ruff_cache
