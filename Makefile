# Bastion developer commands. `make run` and `make test` are all a fresh clone needs.
#
#   make run      serve the admin at http://127.0.0.1:8000/admin/ on the embedded database
#   make test     run the whole test suite: tests/ and every apps/<name>/tests/, spread over
#                 the machine's cores (PYTEST_WORKERS=0 runs it in one process;
#                 PYTEST_ARGS="-k health -x" narrows it)
#   make bench    print the store benchmark       (BENCH_ARGS="--sizes 10000")
#   make lint     flake8
#   make clean    remove caches and build output (keeps .venv and var/, which holds your data)
#   make distclean  clean, and remove .venv too
#
# The virtualenv is created on first use and re-installed only when setup.cfg or
# pyproject.toml changes (the stamp file .venv/.installed records the last install).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
PYTEST_WORKERS ?= auto
BENCH_ARGS ?=

.PHONY: run test bench lint clean distclean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): setup.cfg pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) manage.py runserver

# pytest-xdist: one worker per core; --dist loadfile keeps a module's tests (and its
# module-scoped served site) on one worker.
test: $(STAMP)
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# bench/peers.py is standalone (it needs third-party engines in their own venv); see its docstring.
bench: $(STAMP)
	$(PY) bench/store.py $(BENCH_ARGS)

lint: $(STAMP)
	$(PY) -m flake8

clean:
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +
	rm -rf .pytest_cache build dist *.egg-info

distclean: clean
	rm -rf $(VENV)
