# Two commands do everything: `make run` and `make test` (`make test-fast` for unit tests only).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8501

.PHONY: run test test-fast install install-dev bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt requirements-spark.txt $(VENV)/.runtime
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

## Start the dashboard on the bundled demo data (PORT=8501 by default).
run: install
	PYTHONPATH=. $(BIN)/streamlit run dashboard/app.py --server.port $(PORT) --server.headless true

## Install everything and run the whole suite: unit, AppTest and real-browser tests.
test: install-dev
	$(BIN)/python -m pytest -n 2 --dist loadfile -q -rs --timeout 600

## Unit tests only (doctests, linters, type check, import contracts included): the edit loop, about a minute.
test-fast: install-dev
	$(BIN)/python -m pytest tests/unit -n 2 -q -x --timeout 600

## Benchmarks (on demand; results in README).
bench: install-dev
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
