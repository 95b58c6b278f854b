# Everyday commands. `make run` and `make test` work from a fresh clone.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app eventapp
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
PORT ?= 5000

.PHONY: run install install-test translations test test-sqlite test-postgres lint format \
	serve-postgres bench worker clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found); set PYTHON=..."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	@touch $@

$(TEST_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

install: $(STAMP) translations

install-test: $(TEST_STAMP) translations

## Compile the Dutch and English catalogs (.mo files are built, never committed).
translations: $(STAMP)
	@if ls eventapp/translations/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
		$(BIN)/pybabel compile -q -d eventapp/translations; fi

## Serve the demo event on http://127.0.0.1:5000 with SQLite and an in-process mail worker.
run: install
	$(FLASK) db upgrade
	$(FLASK) demo
	FLASK_MAIL_WORKER_IN_PROCESS=true $(FLASK) run --port $(PORT)

## The whole suite on SQLite, then on PostgreSQL when TEST_DATABASE_URL is set.
test: install-test
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

worker: install
	$(FLASK) mail send --loop

clean:
	rm -rf $(VENV) .pytest_cache
