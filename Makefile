# Everyday commands. `make run` and `make test` work from a fresh clone.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app eventapp
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
PORT ?= 5000
ALTCHA_DIR := eventapp/static/vendor/altcha
ALTCHA := $(ALTCHA_DIR)/altcha.min.js


.PHONY: static-vendor
.PHONY: run install install-test translations translations-update screenshots test test-sqlite test-postgres lint format \
	serve-postgres bench bench-outbox bench-outbox-cpu bench-request-cpu bench-quick worker clean

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

install: $(STAMP) translations static-vendor

## JavaScript libraries the pages use (assets/package.json, locked in assets/package-lock.json),
## installed from npm and copied into eventapp/static/vendor/: served by the app, never a CDN.
## jsQR decodes QR codes from the camera where the browser has no BarcodeDetector (Safari, Firefox).
VENDOR := eventapp/static/vendor
VENDOR_FILES := $(VENDOR)/jsQR.js $(ALTCHA) $(VENDOR)/interact.min.js
static-vendor: $(VENDOR_FILES)
$(VENDOR)/jsQR.js: assets/package.json assets/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "npm is needed for the static assets (apt-get install npm)"; exit 1; }
	npm ci --prefix assets --no-audit --no-fund --loglevel=error
	@mkdir -p $(VENDOR)
	cp assets/node_modules/jsqr/dist/jsQR.js $@

## The ALTCHA proof-of-work widget (eventapp/bot_challenge.py), from npm (assets/package-lock.json),
## served from our own static files: the "external" build (no inline styles or blob: workers,
## so the CSP stays strict) and its SHA worker.
$(ALTCHA): assets/package.json assets/package-lock.json $(VENDOR)/jsQR.js
	@command -v npm >/dev/null 2>&1 || { echo "npm is needed for the registration form's anti-bot widget (apt-get install npm)"; exit 1; }
	npm ci --prefix assets --no-audit --no-fund --loglevel=error
	mkdir -p $(ALTCHA_DIR)/workers
	cp assets/node_modules/altcha/dist/external/altcha.min.js $(ALTCHA)
	cp assets/node_modules/altcha/dist/external/altcha.css $(ALTCHA_DIR)/altcha.css
	cp assets/node_modules/altcha/dist/workers/sha.js $(ALTCHA_DIR)/workers/sha.js
	cp assets/node_modules/altcha/LICENSE.txt $(ALTCHA_DIR)/LICENSE.txt
	@touch $@

## interact.js drags sessions in the organiser's timetable editor (static/timetable.js) with the
## mouse and on touch screens (pointer events), from npm like the others.
$(VENDOR)/interact.min.js: assets/package.json assets/package-lock.json $(VENDOR)/jsQR.js
	@command -v npm >/dev/null 2>&1 || { echo "npm is needed for the timetable editor (apt-get install npm)"; exit 1; }
	npm ci --prefix assets --no-audit --no-fund --loglevel=error
	@mkdir -p $(VENDOR)
	cp assets/node_modules/interactjs/dist/interact.min.js $@
	cp assets/node_modules/interactjs/LICENSE $(VENDOR)/interact.LICENSE

## axe-core for the browser tests' accessibility audit, from npm (tests/browser/package-lock.json).
AXE := tests/browser/node_modules/axe-core/axe.min.js
$(AXE): tests/browser/package.json tests/browser/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "npm is needed for the accessibility audit (apt-get install npm)"; exit 1; }
	npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
	@touch $@

## ical.js for the calendar tests: an independent parser (Thunderbird's) run with node
## (tests/calendar_js/package-lock.json; tests/calendar_parsers.py).
ICALJS := tests/calendar_js/node_modules/ical.js/package.json
$(ICALJS): tests/calendar_js/package.json tests/calendar_js/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "npm is needed for the calendar tests (apt-get install npm)"; exit 1; }
	npm ci --prefix tests/calendar_js --no-audit --no-fund --loglevel=error
	@touch $@

install-test: $(TEST_STAMP) translations static-vendor $(AXE) $(ICALJS)

## Compile the Dutch and English catalogs (.mo files are built, never committed).
translations: $(STAMP)
	@if ls eventapp/translations/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
		$(BIN)/pybabel -q compile -d eventapp/translations; fi

## Extract every wrapped string (babel.cfg) into build/messages.pot and merge it into the
## catalogs; then translate the new entries in eventapp/translations/nl/LC_MESSAGES/messages.po.
## tests/web/test_translations.py reads BABEL_KEYWORDS from here and fails on untranslated text.
BABEL_KEYWORDS := -k _l -k lazy_gettext -k lazy_ngettext:1,2 -k _n:1,2
translations-update: $(STAMP)
	@mkdir -p build
	$(BIN)/pybabel -q extract -F babel.cfg $(BABEL_KEYWORDS) --sort-output --add-location=file \
		--project=eventapp -o build/messages.pot .
	@for lang in nl en; do \
		if [ -f eventapp/translations/$$lang/LC_MESSAGES/messages.po ]; then \
			$(BIN)/pybabel -q update --no-fuzzy-matching --ignore-obsolete \
				-i build/messages.pot -d eventapp/translations -l $$lang; \
		else $(BIN)/pybabel -q init -i build/messages.pot -d eventapp/translations -l $$lang; fi; \
	done
	$(MAKE) --no-print-directory translations

## Retake docs/screenshots/*.png with the browser tests (Debian's Chromium at /usr/bin/chromium).
## pngquant (apt-get install pngquant), when present, makes them about three times smaller.
screenshots: install-test
	EVENTAPP_SCREENSHOTS=1 $(BIN)/python -m pytest -q -p no:cacheprovider -m browser tests/browser
	@if command -v pngquant >/dev/null 2>&1; then \
		pngquant --quality=70-95 --speed 1 --force --ext .png docs/screenshots/*.png; fi

## Serve the demo event on http://127.0.0.1:$(PORT) (5000) with SQLite and an in-process mail
## worker. FLASK_DEVELOPMENT=true accepts the development defaults (eventapp/settings.py);
## links in emails and calendar files use the same port.
DEV_ENV := FLASK_DEVELOPMENT=true FLASK_SERVER_NAME_FOR_LINKS=http://127.0.0.1:$(PORT) \
	FLASK_MAIL_LOOP_RUNS_PERIODIC=true
run: install
	$(DEV_ENV) $(FLASK) db upgrade
	$(DEV_ENV) $(FLASK) demo
	$(DEV_ENV) FLASK_MAIL_WORKER_IN_PROCESS=true $(FLASK) run --port $(PORT)

## The whole suite on SQLite, then on PostgreSQL when TEST_DATABASE_URL is set.
test: install-test
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Serve with gunicorn (gunicorn.conf.py) on PostgreSQL: creates the database if missing,
## migrates it and loads the demo event (DEMO=no to skip). Settings: GUNICORN_* variables.
PG_SERVER ?= postgres@127.0.0.1:5432
PG_DATABASE ?= eventapp
DEMO ?= yes
PG_URI := postgresql+psycopg://$(PG_SERVER)/$(PG_DATABASE)
serve-postgres: install
	@psql "postgresql://$(PG_SERVER)/postgres" -tAc \
		"SELECT 1 FROM pg_database WHERE datname = '$(PG_DATABASE)'" | grep -q 1 \
		|| psql "postgresql://$(PG_SERVER)/postgres" -c 'CREATE DATABASE "$(PG_DATABASE)"'
	$(DEV_ENV) FLASK_SQLALCHEMY_DATABASE_URI=$(PG_URI) $(FLASK) db upgrade
	@if [ "$(DEMO)" = "yes" ]; then $(DEV_ENV) FLASK_SQLALCHEMY_DATABASE_URI=$(PG_URI) $(FLASK) demo; fi
	$(DEV_ENV) FLASK_SQLALCHEMY_DATABASE_URI=$(PG_URI) GUNICORN_BIND=$${GUNICORN_BIND:-127.0.0.1:$(PORT)} \
		$(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

## Load tests and timings on loopback (gunicorn + locust, PostgreSQL and SQLite); prints a
## report, asserts nothing. See docs/PERFORMANCE.md. bench-quick: smaller sizes, ~2 minutes.
## gunicorn serves the bench's own entry point, bench/wsgi_bench.py: the app plus the baseline
## endpoints of bench/baseline_app.py, which the app itself (wsgi.py) never mounts.
BENCH_STAMP := $(VENV)/.installed-bench
$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,bench]'
	@touch $@

bench: $(BENCH_STAMP) translations
	$(BIN)/python bench/run.py $(BENCH_ARGS)
	$(BIN)/python bench/bench_outbox.py $(BENCH_OUTBOX_ARGS)

## The outbox alone: 2,000 confirmations with 1, 2 and 4 workers (bench/bench_outbox.py).
bench-outbox: $(BENCH_STAMP) translations
	$(BIN)/python bench/bench_outbox.py $(BENCH_OUTBOX_ARGS)

## CPU time and statements per email, this checkout against BASELINE (default main), side
## by side in one run: fair on a noisy machine (bench/outbox_cpu.py).
bench-outbox-cpu: $(BENCH_STAMP) translations
	$(BIN)/python bench/outbox_cpu.py --baseline $(or $(BASELINE),main) $(BENCH_OUTBOX_CPU_ARGS)

## CPU time and statements per request on the registration path (the API, its SQL alone, the
## opening minute's four steps), this checkout against BASELINE (default main), in turns in
## one run (bench/request_cpu.py).
bench-request-cpu: $(BENCH_STAMP) translations
	$(BIN)/python bench/request_cpu.py --baseline $(or $(BASELINE),main) $(BENCH_REQUEST_CPU_ARGS)

bench-quick: $(BENCH_STAMP) translations
	$(BIN)/python bench/run.py --quick $(BENCH_ARGS)

worker: install
	$(DEV_ENV) $(FLASK) mail send --loop

clean:
	rm -rf $(VENV) .pytest_cache
