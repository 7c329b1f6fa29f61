# Two commands on a fresh machine:
#   make test   -- create .venv, install meganet with its test and mpi extras, run the test suite
#   make run    -- create .venv, install meganet with its plot extra, train the parabolic, Hamiltonian
#                  and leapfrog CNNs on the embedded Fashion-MNIST subset (FULL=1: the full data set,
#                  apt-get install dataset-fashion-mnist), write results/ and print the test accuracies
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PYTEST_ARGS ?= -m "not slow"
# optional extras installed into .venv (mpi: mpi4py + MPICH, for the 2-process tests)
EXTRAS ?= test,mpi
FULL       ?=
RUN_ARGS   ?=

.PHONY: test test-all venv run clean

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip >/dev/null
	$(PY) -m pip install -e ".[$(EXTRAS)]"
	touch $@

$(VENV)/.installed-plot: $(VENV)/.installed
	$(PY) -m pip install -e ".[plot]"
	touch $@

venv: $(VENV)/.installed

run: $(VENV)/.installed-plot
	$(PY) drivers/runFashionMNIST.py $(if $(FULL),--full,) $(RUN_ARGS)

test: $(VENV)/.installed
	$(PY) -m pytest -q $(PYTEST_ARGS)

test-all: $(VENV)/.installed
	$(PY) -m pytest -q -m ""

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
