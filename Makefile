# Two front doors for a fresh machine (Python 3.11+, make, Node.js):
#   make demo   installs everything and runs the demo
#   make test   installs everything and runs lint, type checks and the whole test suite
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test lint bench bench-print bench-intake bench-analysis bench-analyze bench-inclusion screenshots clean

JS_BUNDLE := survey/web/collector/static/dist/app.js
JS_SOURCES := $(wildcard survey/web/collector/js/*.js)

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund

# The browser code (the form and libsodium-wrappers) bundled into one file served from our
# own origin with Subresource Integrity.
$(JS_BUNDLE): node_modules/.package-lock.json $(JS_SOURCES)
	npm run build

install: $(STAMP) $(JS_BUNDLE)

demo: install
	$(VENV)/bin/survey demo

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# Tests in as many worker processes as the machine has cores (pytest-xdist; CI has 2): each
# worker has its own temporary folders and its own throwaway PostgreSQL cluster.
test: lint
	$(VENV)/bin/pytest -n auto --maxprocesses 4 --dist worksteal

bench: install
	$(PY) bench/draw_benchmark.py

bench-print: install
	$(PY) bench/print_benchmark.py

bench-intake: install
	$(PY) bench/intake_benchmark.py

# The README's pictures (docs/*.png) from a fresh demo: Chromium and poppler-utils needed.
screenshots: install
	$(PY) docs/make_screenshots.py

bench-analysis: install
	$(PY) bench/analysis_benchmark.py --rows 1000000 --repeat 3

bench-analyze: install
	$(PY) bench/analyze_benchmark.py --rows 100000 1000000 --repeat 3

bench-inclusion: install
	$(PY) bench/inclusion_montecarlo.py --seeds 200

clean:
	rm -rf $(VENV) var keys build .pytest_cache .mypy_cache .ruff_cache
