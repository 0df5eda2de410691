# Two commands on a fresh machine (Python 3.11 + make): `make run` and `make test`.
# Each creates .venv, installs the pinned requirements and, when DATABASE_URL is unset,
# starts the embedded PostgreSQL in .devdata/pg; then applies the migrations.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
DEVDB := $(PY) -m ticketing.devdb

.PHONY: run cluster cluster-stop dev test lint format migrate rollback db-status db-stop openapi bench bench-pooler bench-instructions clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $@

venv: $(STAMP)

run: $(STAMP) ## serve the API on http://127.0.0.1:$${PORT:-8080}: nginx in front of gunicorn (docs/deployment.md)
	$(DEVDB) run -- $(PY) -m ticketing.frontdoor

cluster: $(STAMP) ## CLUSTER_APPS instances behind nginx, PgBouncer, HAProxy, Patroni (2 x PostgreSQL 15) and etcd (docs/deployment.md)
	$(PY) -m ticketing.cluster up

cluster-stop: $(STAMP) ## stop everything `make cluster` started
	$(PY) -m ticketing.cluster down

dev: $(STAMP) ## Flask's reloading dev server (not for load)
	$(DEVDB) run -- $(BIN)/flask --app wsgi run --debug --port $${PORT:-8080}

test: $(STAMP) ## the whole suite against real PostgreSQL
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrate: $(STAMP) ## apply pending migrations (and refresh db/schema.sql)
	$(DEVDB) dbmate -- --wait up

rollback: $(STAMP) ## roll back the newest migration
	$(DEVDB) dbmate -- rollback

db-status: $(STAMP)
	$(DEVDB) dbmate -- status

db-stop: $(STAMP) ## stop the embedded PostgreSQL
	$(DEVDB) stop

openapi: $(STAMP) ## print the OpenAPI document
	$(DEVDB) run -- $(BIN)/flask --app wsgi openapi print

bench: $(STAMP) ## the purchase benchmark (docs/performance.md)
	$(PY) -m bench.run $(BENCH_ARGS)

bench-pooler: $(STAMP) ## the purchase path straight to PostgreSQL and through PgBouncer (docs/scaling.md)
	$(PY) -m bench.pooler $(BENCH_ARGS)

bench-instructions: $(STAMP) ## CPU instructions per purchase under callgrind (load-independent)
	$(PY) -m bench.instructions $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
