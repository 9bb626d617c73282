# Two front doors for a fresh machine (Python 3.11+, make, Node.js):
#   make demo   installs everything and runs the demo
#   make test   installs everything and runs lint, type checks and the whole test suite
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test lint bench bench-print bench-intake bench-analysis bench-analyze bench-inclusion screenshots clean

JS_BUNDLE := survey/web/collector/static/dist/app.js
JS_SOURCES := $(wildcard survey/web/collector/js/*.js)

# The package registry can drop a download half-way (CI once failed on an IncompleteRead): each
# pip step is tried three times before the install fails; a retry reuses what was downloaded.
PIP_TRY := for try in 1 2 3; do $(PY) -m pip install -q --retries 10 --timeout 60

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PIP_TRY) --upgrade pip && break; [ $$try = 3 ] && exit 1; sleep 5; done
	$(PIP_TRY) -e '.[dev]' && break; [ $$try = 3 ] && exit 1; sleep 5; done
	touch $(STAMP)

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund --fetch-retries 5

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
