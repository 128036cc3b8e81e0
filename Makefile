# Two commands: `make demo` runs the product on demo data, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export OBS_HOME ?= $(CURDIR)/.observatoire

.PHONY: demo test venv system lint bench clean-db

demo: venv
	bash scripts/setup-system.sh postgis
	$(BIN)/observatoire demo

test: venv
	bash scripts/setup-system.sh postgis browser
	$(BIN)/pytest --headless -p no:cacheprovider

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	bash scripts/setup-system.sh python
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

lint: venv
	$(BIN)/ruff check .

bench: venv
	bash scripts/setup-system.sh postgis gdal
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b; done

clean-db: venv
	$(BIN)/observatoire db stop || true
	rm -rf $(OBS_HOME)
