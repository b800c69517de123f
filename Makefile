# Rapport: `make demo` runs it with demo data, `make test` runs every test.
# Both bootstrap .venv themselves (uv, from the committed uv.lock).

VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
UV_VERSION := 0.13.9
PORT ?= 8000
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: demo run test test-sqlite test-postgres test-browser lint types check bench messages vendor clean

$(BIN)/python:
	@python=$$(scripts/find-python) && "$$python" -m venv $(VENV)

$(UV): | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked --inexact --quiet
	@touch $@

install: $(VENV)/.synced

## Run Rapport with demo data on SQLite at http://127.0.0.1:$(PORT) (web, worker and scheduler; Ctrl-C stops).
demo: install
	$(BIN)/rapport up --demo S --port $(PORT)

## Run Rapport without demo data.
run: install
	$(BIN)/rapport up --port $(PORT)

## Every check CI runs: lint, types, migrations, deploy check, the suite on SQLite and PostgreSQL, the browser journey.
test: install
	bash scripts/test-all

test-sqlite: install
	$(BIN)/pytest -m "not browser"

test-postgres: install
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/rapport} $(BIN)/pytest -m "not browser"

test-browser: install
	$(BIN)/pytest -m browser

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: install
	$(BIN)/mypy

## Benchmarks on data set M (not part of the tests); results go to docs/benchmarks.md.
bench: install
	$(BIN)/rapport bench

## Re-extract translatable strings into rapport/locale/*/LC_MESSAGES/django.po.
messages: install
	cd rapport && ../$(BIN)/rapport makemessages --all --no-obsolete --no-location --ignore 'static/*'
	cd rapport && ../$(BIN)/rapport compilemessages

## Refresh the vendored front-end libraries from npm (needs Node).
vendor:
	scripts/vendor-static

clean:
	rm -rf $(VENV) var/static .pytest_cache .mypy_cache .ruff_cache
