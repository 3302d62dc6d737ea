# Inpaint Studio. `make run` starts the app on embedded defaults; `make test` runs the whole suite.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000

# Django 6 needs Python >= 3.12: take the first such interpreter on this machine
# (the image ships one under pyenv; the system python3 is 3.11).
BASE_PYTHON := $(shell for p in python3.13 python3.12 $$HOME/.pyenv/versions/3.1[2-9]*/bin/python3; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1 && { echo $$p; break; }; done)

# Test services: PostgreSQL and Redis on this machine (.ci/run starts them when down).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/inpaint
TEST_BROKER_URL ?= redis://127.0.0.1:6379/14
# The whole suite fails below this coverage of inpaint/ and webapp/ (95.5 % when it was set); a run of a few
# modules (PYTEST_ARGS) is not held to it.
COVERAGE_FLOOR := 95

.PHONY: run test install install-test browser gettext messages bench clean lock audit

# Installed from the lock files: every package, transitive ones included, at a pinned version whose
# hash pip checks (`make lock` makes them again from requirements*.txt).
$(VENV)/.installed: requirements.lock
	@test -n "$(BASE_PYTHON)" || { echo "Python 3.12 or newer is needed (Django 6 requires it)"; exit 1; }
	test -x $(PY) || $(BASE_PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements-test.lock
	$(PY) -m pip install --quiet --require-hashes -r requirements-test.lock
	touch $@

# The tools that make the lock files and audit them live apart from the app's own packages.
TOOLS := .venv-tools
$(TOOLS)/.installed:
	test -x $(TOOLS)/bin/python || $(BASE_PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet pip-tools==7.6.2 pip-audit
	touch $@

LOCK_OPTIONS := --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links
lock: $(TOOLS)/.installed
	$(TOOLS)/bin/pip-compile $(LOCK_OPTIONS) -o requirements.lock requirements.txt
	$(TOOLS)/bin/pip-compile $(LOCK_OPTIONS) -o requirements-test.lock requirements-test.txt

# Known vulnerabilities in every locked package (needs the advisory database online, so not in `make test`).
audit: $(TOOLS)/.installed
	$(TOOLS)/bin/pip-audit --require-hashes --disable-pip -r requirements-test.lock

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test node_modules/.installed browser gettext

# The tests' own front-end tools from the npm registry, at the locked versions (axe-core, injected into the browser
# tests' pages and never served to users).
node_modules/.installed: package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Debian's chromium, driven by Playwright for the browser tests (never a downloaded browser).
browser:
	@command -v chromium >/dev/null || { \
		(apt-get update -qq || sudo apt-get update -qq) && \
		(DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core \
		 || sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core); }

# GNU gettext: makemessages and msgfmt, for `make messages` and the test that every string is translated.
gettext:
	@command -v msgfmt >/dev/null || { \
		(apt-get update -qq || sudo apt-get update -qq) && \
		(DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext \
		 || sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext); }

# The translations (locale/): every wrapped string into the .po files, then the .mo files, which are committed so
# a deployed checkout needs no gettext (tests/test_translations.py fails on a missing, fuzzy or stale entry).
MESSAGE_OPTIONS := --add-location=file --ignore=.venv --ignore=.venv-tools --ignore=var --ignore=tests --ignore=bench \
	--ignore=deploy --ignore=docs --ignore=node_modules
messages: install gettext
	$(PY) -m webapp.startup
	for domain in django djangojs; do $(PY) manage.py makemessages --all -d $$domain $(MESSAGE_OPTIONS); done
	$(PY) manage.py compilemessages --ignore=.venv --ignore=.venv-tools

# The start-up step first (webapp/startup.py): the var directory, its folders, the secret key and the
# static files, which the database, migrate and every process then find in place.
run: install
	$(PY) -m webapp.startup --static
	$(PY) manage.py migrate --noinput
	PORT=$(PORT) exec $(PY) -m webapp.supervisor

test: install-test
	node --test tests/js/
	# The whole suite lists its 25 slowest tests, to keep it well under 20 minutes.
	# Connections closed after each request, as Django's default: the test database can then be dropped
	# at the end, which a live server thread's kept connection would prevent.
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) INPAINT_DB_CONN_MAX_AGE=0 \
		$(PY) -m pytest --cov --cov-report=term $(if $(PYTEST_ARGS),,--cov-fail-under=$(COVERAGE_FLOOR) --durations=25) \
		$(PYTEST_ARGS)

bench: install
	$(PY) bench/bench_offline.py

clean:
	rm -rf $(VENV) $(TOOLS) var node_modules
