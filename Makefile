# Test and demo entry points. `make test` builds everything from nothing.
SHELL := /bin/bash
PYTHON_VERSION ?= 3.12
VENV ?= .venv
COMPAT_VENV ?= .venv-compat
BIN := $(VENV)/bin
TOOLS := tests/tools
BUILD ?= .build
COLLECTIONS_PATH := $(abspath $(BUILD))

.PHONY: test venv compat-venv collection lint sanity units emulator-tests integration \
	integration-compat demo bench clean

test: lint sanity units emulator-tests integration integration-compat

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt tests/requirements.txt tests/unit/requirements.txt \
		tests/emulator/pyproject.toml tests/emulator/requirements.txt
	$(TOOLS)/make-venv $(VENV) $(PYTHON_VERSION)
	touch $@

compat-venv: $(COMPAT_VENV)/.installed

$(COMPAT_VENV)/.installed: requirements.txt tests/requirements-compat.txt \
		tests/emulator/pyproject.toml tests/emulator/requirements.txt
	$(TOOLS)/make-venv $(COMPAT_VENV) $(PYTHON_VERSION) tests/requirements-compat.txt
	touch $@

collection:
	$(TOOLS)/build-collection $(BUILD)/ansible_collections/veeam_ahv/backup

lint: venv
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

sanity: venv
	BUILD_DIR=$(abspath $(BUILD)) $(TOOLS)/ansible-test $(VENV) sanity --venv --requirements --color no

# Each Python from 3.9 to 3.13 that is installed gets its own virtual
# environment, so module_utils code is tested on every Python a managed
# node may run.
units: venv
	BUILD_DIR=$(abspath $(BUILD)) $(TOOLS)/ansible-test $(VENV) units --venv --requirements --color no

emulator-tests: venv
	$(BIN)/python -m pytest tests/emulator/tests

integration: venv collection
	ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS_PATH) $(BIN)/python -m pytest tests/integration

# The same integration tests with the oldest supported ansible-core.
integration-compat: compat-venv collection
	ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS_PATH) $(COMPAT_VENV)/bin/python -m pytest tests/integration

demo: venv collection
	ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS_PATH) $(TOOLS)/demo $(VENV)

bench: venv collection
	ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS_PATH) $(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) $(COMPAT_VENV) $(BUILD) tests/output
