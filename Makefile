# Two commands: `make run` (the whole system on this machine) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT

.PHONY: run test lint bench venv migrate clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

migrate: venv
	$(PY) manage.py migrate --noinput
	$(PY) manage.py cube_setup
	$(PY) manage.py register_plugins --builtins --compute-names host

run: migrate
	$(PY) -m cube.embedded --port $(PORT)

test: venv
	CUBE_VAR_DIR=$$(mktemp -d) $(PY) -m pytest -q $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy cube uploads plugins feeds pacs

bench: venv
	$(PY) tests/benchmarks/run_all.py

clean:
	rm -rf var

# docker-compose.yml brought up for real with podman (local images), checked end to end, torn down.
.PHONY: compose-smoke
compose-smoke: venv
	bash .ci/compose-smoke.sh
