# Two commands do all set-up on a fresh machine:
#   make demo   trains the default network (the main job)
#   make test   runs the whole test suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip

.PHONY: demo test bench lint clean system-deps

$(VENV)/.stamp-train: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[train,viz]'
	touch $@

# torch is the test oracle and benchmark peer (a CPU build from this machine's pip).
$(VENV)/.stamp-test: $(VENV)/.stamp-train
	$(PIP) install -q -e '.[train,viz,test,tensorboard]' ruff
	$(PIP) install -q 'torch==2.13.0' || echo "torch could not be installed: oracle tests will skip"
	$(PIP) install -q -e '.[distributed]' || echo "mpi4py/mpich could not be installed: the mpiexec tests will skip"
	touch $@

# Graphviz's dot and a headless Chromium for the viz tests; the tests skip with a
# reason where these cannot be installed.
system-deps:
	@if ! command -v dot >/dev/null || ! command -v chromium >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz chromium >/dev/null) \
	      || echo "apt-get could not install graphviz/chromium: those tests will skip"; \
	  else echo "no root/apt-get: install graphviz and chromium by hand for the viz tests"; fi; \
	fi

demo: $(VENV)/.stamp-train
	$(VENV)/bin/chainrule train --out runs/demo --overwrite

# the tests and every docstring example of the library (-m "not slow" skips the
# subprocess and browser tests while developing)
test: $(VENV)/.stamp-test system-deps
	$(PY) -m pytest tests src --doctest-modules

bench: $(VENV)/.stamp-test
	$(PIP) install -q 'micrograd==0.1.0' || echo "micrograd could not be installed: its row is left out"
	$(PY) bench/bench_ops.py
	$(PY) bench/bench_mlp.py
	$(PY) bench/bench_optim.py
	$(PY) bench/bench_cnn.py --models cnn,lstm,transformer

lint: $(VENV)/.stamp-test
	$(VENV)/bin/ruff check src tests bench examples

clean:
	rm -rf $(VENV) runs .pytest_cache
