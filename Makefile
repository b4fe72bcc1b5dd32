# full-maja: `make demo` runs a whole time series against the local emulator,
# `make demo-ogcapi` the same against a real pygeoapi (OGC API - Processes) server,
# `make test` runs the test suite, `make bench` the benchmarks. Each sets itself up.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo demo-ogcapi test lint bench clean

$(STAMP): setup.cfg pyproject.toml requirements-test.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e . -r requirements-test.txt
	touch $(STAMP)

demo: $(STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash scripts/demo.sh

demo-ogcapi: $(STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash scripts/demo-ogcapi.sh

lint: $(STAMP)
	$(PY) -m ruff check full_maja tests scripts full_maja_process.py full_maja_download.py
	$(PY) -m mypy

test: $(STAMP) lint
	$(PY) -m pytest -q -n 2 -p no:cacheprovider

bench: $(STAMP)
	$(PY) scripts/bench.py

clean:
	rm -rf $(VENV) demo-output demo-output-ogcapi build *.egg-info
