PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PY) >/dev/null || { echo "make: $(PY) not found (spacehub needs Python 3.11+)"; exit 1; }
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[pi,gateway,server,dev]'
	touch $(STAMP)

run: install
	$(BIN)/spacehub demo $(ARGS)

test: install
	$(BIN)/python -m pytest $(ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/tap_latency.py
	$(BIN)/python bench/bookings.py
	$(BIN)/python bench/gateway_latency.py
	$(BIN)/python bench/sensor_to_dashboard.py

clean:
	rm -rf $(VENV) var .pytest_cache
