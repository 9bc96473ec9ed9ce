# Everyday tasks. Needs only python3 (3.11+), pip and make; everything else goes into .venv.
#
#   make run      create .venv and .env if missing, migrate, serve on http://127.0.0.1:5000
#                 (another port: make run PORT=8000)
#   make test     run the test suite (extra pytest options: make test PYTEST_ARGS='-k login -x');
#                 installs axe-core for the browser tests with npm when npm is there
#   make lint     ruff check and ruff format --check
#   make security the security suite (docs/security.md) against live gunicorn servers, with schemathesis
#   make bench    load the production stack on loopback with wrk, then time signing per algorithm (docs/performance.md)
#   make mutation mutation testing of the security modules (mutation/run.py; hours on 2 cores, not in CI;
#                 some modules: make mutation MODULES='myapi/security/scopes.py myapi/ratelimits.py')
#   make migrate  apply database migrations
#   make wheel-check  build the wheel, install it into a fresh virtualenv and run it (.ci/check-wheel)
#   make spa      the example browser app on http://127.0.0.1:5173 next to the API (Ctrl-C stops both)
#   make oauth-demo  the example third-party app (Sign in with myapi) on http://127.0.0.1:5174
#                 next to the API in keys mode, on its own database in instance/oauth-demo/
#   make clean    remove .venv and caches (keeps .env and the database in instance/)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST := 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?=
SPA_PORT := 5173
OAUTH_DEMO_PORT ?= 5174

# Stamp files: the installs rerun only when the files that define them change.
INSTALLED := $(VENV)/.installed
INSTALLED_DEV := $(VENV)/.installed-dev
INSTALLED_BENCH := $(VENV)/.installed-bench
INSTALLED_MUTATION := $(VENV)/.installed-mutation
MODULES ?=

.PHONY: run test lint migrate clean spa oauth-demo security wheel-check

run: migrate
	$(FLASK) run --host $(HOST) --port $(PORT)

# The API in the background with CORS for the SPA's origin, the SPA in the foreground with
# the headers a deployment sends (examples/spa/serve.py: CSP connect-src the API only, ...),
# and FRONTEND_URL so the emailed reset and verification links open the SPA's pages;
# Ctrl-C stops the SPA server, and the EXIT trap stops the API.
spa: migrate
	@echo "SPA on http://$(HOST):$(SPA_PORT)/ (API on http://$(HOST):$(PORT)); Ctrl-C stops both"
	@CORS_ORIGINS=http://$(HOST):$(SPA_PORT) FRONTEND_URL=http://$(HOST):$(SPA_PORT) $(FLASK) run --host $(HOST) --port $(PORT) & api=$$!; \
		trap 'kill $$api 2>/dev/null; wait $$api 2>/dev/null' EXIT; trap 'exit 0' INT TERM; \
		$(BIN)/python examples/spa/serve.py --api http://$(HOST):$(PORT) --host $(HOST) --port $(SPA_PORT)

# The API on 5000 and examples/third-party-app on 5174; Ctrl-C stops both (docs/oauth.md).
oauth-demo: $(INSTALLED_DEV)
	API_PORT=$(PORT) APP_PORT=$(OAUTH_DEMO_PORT) $(BIN)/python examples/third-party-app/demo.py

migrate: $(INSTALLED) .env
	$(FLASK) db upgrade

test: $(INSTALLED_DEV) e2e-deps
	$(BIN)/pytest $(PYTEST_ARGS)

# axe-core for the browser tests' accessibility checks, from the npm registry at the version
# pinned in tests/e2e/package-lock.json (reinstalled when that file changes). Without npm the
# accessibility tests skip, saying so.
AXE := tests/e2e/node_modules/axe-core/axe.min.js

.PHONY: e2e-deps
e2e-deps:
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory $(AXE); \
		else echo "npm not found: the browser tests' accessibility checks will be skipped"; fi

$(AXE): tests/e2e/package.json tests/e2e/package-lock.json
	cd tests/e2e && npm ci --no-audit --no-fund
	touch $@

# The attack catalogue over real HTTP, hypothesis properties and schemathesis against the
# servers' /openapi.json; `make test` skips tests/security, so each runs once in CI.
security: $(INSTALLED_DEV)
	$(BIN)/pytest tests/security $(PYTEST_ARGS)

.PHONY: bench

# PostgreSQL and Redis when BENCH_DATABASE_URL / BENCH_REDIS_URL are set, else SQLite and
# memory://; installs wrk from the distribution's packages if it is missing. Under 5 minutes.
bench: $(INSTALLED_BENCH)
	$(BIN)/python -m bench

# Not in CI (too slow for 2 cores). Survivors run again on PostgreSQL and Redis: the machine's
# own at their usual addresses, or MUTATION_TEST_DATABASE_URL / MUTATION_TEST_REDIS_URL.
.PHONY: mutation
mutation: $(INSTALLED_MUTATION)
	$(BIN)/python mutation/run.py $(foreach module,$(MODULES),--module $(module))

wheel-check:
	PYTHON=$(PYTHON) bash .ci/check-wheel

lint: $(INSTALLED_DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache .coverage htmlcov .mutation* \
		tests/e2e/node_modules
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): requirements.txt setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -r requirements.txt -e .
	touch $@

$(INSTALLED_DEV): $(INSTALLED)
	$(BIN)/python -m pip install -e '.[dev]'
	touch $@

$(INSTALLED_MUTATION): $(INSTALLED_DEV)
	$(BIN)/python -m pip install -e '.[mutation]'
	touch $@

$(INSTALLED_BENCH): $(INSTALLED)
	$(BIN)/python -m pip install -e '.[bench]'
	touch $@

# A new .env holds a secret made here and now, never the example value; an existing one is kept.
.env:
	umask 077 && secret=$$($(PYTHON) -c 'import secrets; print(secrets.token_hex(32))') \
		&& printf '# Made by make run; every setting is described in .env.example.\nMYAPI_CONFIG=development\nJWT_SECRET_KEY=%s\n' \
			"$$secret" > $@.tmp \
		&& mv $@.tmp $@
