# The two commands of the README: `make run` and `make test`. Everything else supports them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PG_URL ?= postgres://postgres@127.0.0.1:5432/test

.PHONY: run test install lint typecheck test-sqlite test-postgres browser bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

## Install, migrate the embedded SQLite database under var/, load demo data, serve on :8000.
run: install
	PATRONAGE_HTTPS=false $(BIN)/patronage migrate --noinput
	PATRONAGE_HTTPS=false $(BIN)/patronage collectstatic --noinput -v0
	PATRONAGE_HTTPS=false $(BIN)/patronage demo
	@echo "Patronage on http://$(HOST):$(PORT)/ with a task worker  (Ctrl-C stops both)"
	export PATRONAGE_HTTPS=false PATRONAGE_LOG_FORMAT=text; \
	$(BIN)/patronage worker -v0 & trap "kill $$! 2>/dev/null" EXIT; \
	$(BIN)/patronage serve --host $(HOST) --port $(PORT) --workers 2

## The whole suite: lint, types, then every test on SQLite and on PostgreSQL.
test: install browser lint typecheck test-sqlite test-postgres

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy patronage

browser:
	@bash scripts/ensure-chromium.sh

test-sqlite: install
	@echo "== tests on SQLite =="
	env -u DATABASE_URL $(BIN)/pytest -n 2 --dist loadgroup

test-postgres: install
	@echo "== tests on PostgreSQL =="
	@bash scripts/ensure-postgres.sh "$(PG_URL)"
	DATABASE_URL="$(PG_URL)" $(BIN)/pytest -n 2 --dist loadgroup

bench: install
	$(BIN)/python bench/lookup.py

clean:
	rm -rf $(VENV) var artifacts
