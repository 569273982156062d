# Any Python 3.11 or newer: the first of these names that is one.
PY ?= $(shell for p in python3 python3.14 python3.13 python3.12 python3.11; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# axe-core for the browser tests' accessibility checks, from npm when npm is here.
NPM_STAMP := node_modules/.installed

.PHONY: install run demo-reset test test-fast test-pg lint bench clean

install: $(STAMP) $(if $(shell command -v npm 2>/dev/null),$(NPM_STAMP))

$(STAMP): pyproject.toml
	@test -n "$(PY)" || { echo "make: no Python 3.11 or newer found (spacehub needs one)"; exit 1; }
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[pi,gateway,server,dev]'
	touch $(STAMP)

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error >/dev/null
	touch $(NPM_STAMP)

# Ctrl-C: the demo stops everything and exits 0, so make reports no error (GNU make
# itself then ends by the same SIGINT, as it does on any Ctrl-C).
run: install
	$(BIN)/spacehub demo $(ARGS)

# The demo from a new database: no bookings, sessions or outboxes of an earlier run.
demo-reset: install
	$(BIN)/spacehub demo --reset $(ARGS)

# Temporary files (the tests' databases, brokers' folders) live in memory (/dev/shm) where
# there is one: closing a SQLite database checkpoints its WAL with an fsync, a few
# milliseconds a test on a disk.
FAST_TMP := $(or $(TMPDIR),$(if $(wildcard /dev/shm/.),/dev/shm),/tmp)

# Every test: first those not marked `alone`, spread over one pytest-xdist worker a CPU and
# one more (most of the tests that are not unit tests wait on brokers, browsers, processes
# and timeouts rather than on a CPU), then those marked `alone` (the fault injections, the
# demo's Ctrl-C: they time how fast processes answer or stop) one at a time. Either part
# may select nothing (pytest's exit status 5) when ARGS names a few tests. MARK selects by
# marker in both parts (`make test MARK="not faults"`), where `-m` in ARGS would undo this.
WORKERS := $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) + 1 )))
PYTEST := TMPDIR=$(FAST_TMP) PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest
MARKED := $(if $(MARK),($(MARK)) and ,)

test: install
	$(PYTEST) -n $(WORKERS) --dist worksteal -m "$(MARKED)not alone" $(ARGS) || [ $$? -eq 5 ]
	$(PYTEST) -m "$(MARKED)alone" $(ARGS) || [ $$? -eq 5 ]

# Only the tests marked `unit`: no broker, browser, subprocess or fault injection; one
# worker a CPU (pytest-xdist), since each test has its own database and temporary files.
# Bytecode is cached (in the ignored __pycache__) even where PYTHONDONTWRITEBYTECODE is
# set: compiling the packages and rewriting the tests' asserts again costs each worker ~5 s.
# tests/browser and tests/faults hold no unit test (tests/conftest.py), and only a slow test
# uses schemathesis: neither is imported, by each worker as by the main process.
test-fast: install
	$(PYTEST) -m unit -n auto --dist worksteal \
		--ignore=tests/browser --ignore=tests/faults -p no:schemathesis $(ARGS)

# The suite on PostgreSQL: a private cluster for the run (.ci/postgres), removed after;
# `.ci/postgres make test-fast` runs the unit tests only.
test-pg: install
	.ci/postgres $(MAKE) --no-print-directory test ARGS='$(ARGS)'

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Every script in bench/, one Markdown table, also written to bench/results.md (about
# 10 minutes; ARGS=--quick for a smoke run at tiny sizes).
bench: install
	$(BIN)/python bench/report.py $(ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache node_modules
