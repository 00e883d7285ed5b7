# Two commands: `make run` and `make test` (see README.md). Only Python >= 3.11 and make needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export DJANGO_SETTINGS_MODULE ?= portal.settings.dev

.PHONY: run test bench lint format install migrate worker beat translations messages check clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed

translations: install
	$(BIN)/python manage.py compiletranslations

migrate: install
	$(BIN)/python manage.py migrate --noinput

## make run: install, migrate, compile translations, load demo data, serve on 127.0.0.1:$(PORT).
## With REDIS_URL set, a Celery worker with beat runs beside the web server.
## Links in emails point at the served port (PORT=18813 make run) unless PORTAL_BASE_URL is set.
run: export PORTAL_BASE_URL ?= http://127.0.0.1:$(PORT)
run: install translations migrate
	$(BIN)/python manage.py seed_demo
	@if [ -n "$$REDIS_URL" ]; then \
	  echo "Starting a Celery worker with beat (REDIS_URL is set)"; \
	  $(BIN)/celery -A portal worker --beat --loglevel=INFO --concurrency=2 & \
	  trap "kill $$! 2>/dev/null" EXIT INT TERM; \
	  $(BIN)/python manage.py runserver 127.0.0.1:$(PORT); \
	else \
	  $(BIN)/python manage.py runserver 127.0.0.1:$(PORT); \
	fi

worker: install
	$(BIN)/celery -A portal worker --loglevel=INFO

beat: install
	$(BIN)/celery -A portal beat --loglevel=INFO

## make test: the whole suite against real PostgreSQL, Redis and a Celery worker
## (DATABASE_URL / REDIS_URL when given, otherwise throwaway servers).
# Two test processes (pytest-xdist) by default; `make test TEST_PROCESSES=0` runs in one process.
TEST_PROCESSES ?= 2
test: install translations
	DJANGO_SETTINGS_MODULE=portal.settings.test $(BIN)/python scripts/with_services.py $(BIN)/python -m pytest -n $(TEST_PROCESSES) --durations=25 $(PYTEST_ARGS)

## make bench: every page and API list/detail at scale (seed_scale, cached in var/bench/) served by
## gunicorn with production settings; p95 against a bare authenticated page (README "Benchmark").
## BENCH_SCALE, BENCH_REQUESTS, BENCH_BUDGET, BENCH_ROUTES, … are read from the environment.
bench: install translations
	$(BIN)/python scripts/bench.py

## make lint: ruff's lint rules and format check (configured in pyproject.toml); `make format` rewrites.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## make messages: refresh the German .po files after changing user-facing strings (needs gettext).
messages: install
	$(BIN)/python manage.py makemessages -l de --ignore=.venv --ignore=var --ignore=staticfiles
	$(BIN)/python manage.py makemessages -l de -d djangojs --ignore=.venv --ignore=var --ignore=staticfiles

check: install
	$(BIN)/python manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=portal.settings.production SECRET_KEY=check-only-$$(date +%s)-0123456789abcdefghijklmnopqrstuvwxyz ALLOWED_HOSTS=portal.example $(BIN)/python manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) staticfiles var db.sqlite3
