# Two commands: `make demo` runs the product on demo data, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export OBS_HOME ?= $(CURDIR)/.observatoire

# Exact versions: requirements.lock (runtime, the Docker image) and requirements-dev.lock (runtime + dev,
# the .venv). Both are compiled from pyproject.toml for Debian 12's Python (3.11.2) on Linux.
LOCK := requirements.lock
DEV_LOCK := requirements-dev.lock
COMPILE = $(BIN)/uv pip compile pyproject.toml --quiet --python-version 3.11.2 \
	--python-platform x86_64-unknown-linux-gnu --custom-compile-command "make lock"

.PHONY: demo test check venv lock upgrade system lint bench clean-db

demo: venv
	bash scripts/setup-system.sh postgis pdf
	$(BIN)/observatoire demo

test: venv
	bash scripts/setup-system.sh postgis browser pdf
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest --headless -p no:cacheprovider

# While working: lint, format, types and the tests that need no browser. Every step runs; any failure fails.
check: venv
	bash scripts/setup-system.sh postgis pdf
	@status=0; \
	$(BIN)/ruff check . || status=1; \
	$(BIN)/ruff format --check . || status=1; \
	$(BIN)/mypy observatoire ingest || status=1; \
	$(BIN)/pytest -m "not browser" -p no:cacheprovider || status=1; \
	exit $$status

venv: $(VENV)/.installed

$(VENV)/.installed: $(DEV_LOCK) pyproject.toml
	bash scripts/setup-system.sh python
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r $(DEV_LOCK)
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $@

# After a change of dependencies in pyproject.toml: the locks follow, keeping every version they can.
lock: venv
	$(COMPILE) --extra dev -o $(DEV_LOCK)
	$(COMPILE) -c $(DEV_LOCK) -o $(LOCK)

# Every dependency to its newest allowed version, reinstalled, then the whole suite.
upgrade: venv
	$(COMPILE) --upgrade --extra dev -o $(DEV_LOCK)
	$(COMPILE) -c $(DEV_LOCK) -o $(LOCK)
	$(MAKE) test

lint: venv
	$(BIN)/ruff check .

bench: venv
	bash scripts/setup-system.sh postgis gdal
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b; done

clean-db: venv
	$(BIN)/observatoire db stop || true
	rm -rf $(OBS_HOME)
