# Two front doors for a fresh machine (Python 3.11+, make, Node.js):
#   make demo   installs everything and runs the demo
#   make test   installs everything and runs lint, type checks and the whole test suite
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test lint bench bench-print clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(VENV)/bin/survey demo

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: lint
	$(VENV)/bin/pytest

bench: install
	$(PY) bench/draw_benchmark.py

bench-print: install
	$(PY) bench/print_benchmark.py

clean:
	rm -rf $(VENV) var keys build .pytest_cache .mypy_cache .ruff_cache
