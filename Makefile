# Two commands: `make run` and `make test`. Everything else is a helper for them.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test screenshots bench bench-webhook bench-email bench-scale bench-mora clean

run: $(VENV)/.installed
	$(PY) -m bot setup-demo
	DEMO_MODE=1 $(PY) -m bot serve --host 127.0.0.1 --port 8000

test: $(VENV)/.installed-dev
	$(PY) -m pytest -q -ra

# Refreshes the README's screenshots (the browser tests write them to a temp folder otherwise).
screenshots: $(VENV)/.installed-dev
	SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(PY) -m pytest -q tests/backoffice/test_browser.py

bench: $(VENV)/.installed-dev
	$(PY) bench/engine_throughput.py

bench-backoffice: $(VENV)/.installed-dev
	$(PY) bench/backoffice_pages.py --write-results

bench-webhook: $(VENV)/.installed-dev
	$(PY) bench/webhook_load.py --posts 3000 --concurrency 32
	$(PY) bench/webhook_load.py --posts 3000 --concurrency 32 --postgres

bench-email: $(VENV)/.installed-dev
	$(PY) bench/email_ingest.py --letters 1000
	$(PY) bench/email_ingest.py --letters 1000 --postgres

bench-mora: $(VENV)/.installed-dev
	$(PY) bench/mora_run.py --clients 5000
	$(PY) bench/mora_run.py --clients 5000 --postgres

bench-scale: $(VENV)/.installed-dev
	$(PY) bench/scale_load.py --clients 500

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml $(VENV)/bin/python
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/bin/python
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

clean:
	rm -rf $(VENV) var/*.sqlite3*
