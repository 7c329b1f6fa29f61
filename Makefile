# Two commands on a fresh machine:
#   make test   -- create .venv, install meganet with its test and mpi extras, run the test suite
#   make run    -- (once the drivers exist) train the PDE-CNNs on the embedded default data
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PYTEST_ARGS ?= -m "not slow"
# optional extras installed into .venv (mpi: mpi4py + MPICH, for the 2-process tests)
EXTRAS ?= test,mpi

.PHONY: test test-all venv clean

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip >/dev/null
	$(PY) -m pip install -e ".[$(EXTRAS)]"
	touch $@

venv: $(VENV)/.installed

test: $(VENV)/.installed
	$(PY) -m pytest -q $(PYTEST_ARGS)

test-all: $(VENV)/.installed
	$(PY) -m pytest -q -m ""

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
