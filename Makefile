# full-maja: `make demo` gets two time series from the local test servers (it installs
# the runtime dependencies and odc-stac, which opens the series as a data cube), `make
# demo-ogcapi` a processed one from a real pygeoapi (OGC API - Processes) server, `make
# test` runs the linters and the test suite, `make bench` the benchmarks. Each sets
# itself up in .venv.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check
RUNTIME := $(VENV)/.runtime-installed
DEMO := $(VENV)/.demo-installed
STAMP := $(VENV)/.installed
LINTED := full_maja emulators tests scripts full_maja_process.py full_maja_download.py

.PHONY: demo demo-ogcapi test lint bench dist clean

$(RUNTIME): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip
	$(PIP) -e .
	touch $(RUNTIME)

$(DEMO): $(RUNTIME)
	$(PIP) -e '.[cube]'
	touch $(DEMO)

$(STAMP): $(RUNTIME) requirements-test.txt
	$(PIP) -e ".[cube]" -r requirements-test.txt
	touch $(STAMP)

demo: $(DEMO)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash scripts/demo.sh

demo-ogcapi: $(STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash scripts/demo-ogcapi.sh

lint: $(STAMP)
	$(PY) -m ruff check $(LINTED)
	$(PY) -m mypy

test: $(STAMP) lint
	$(PY) -m pytest -q -n 2 -p no:cacheprovider

bench: $(STAMP)
	$(PY) scripts/bench.py

dist: $(STAMP)
	rm -rf dist && $(PY) -m build --outdir dist .

clean:
	rm -rf $(VENV) demo-output demo-output-ogcapi build dist *.egg-info
