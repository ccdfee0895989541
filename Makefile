# Two commands on a fresh machine with Python 3.11+ and make:
#   make run    the service (`booking serve`)
#   make test   ruff, mypy and the whole test suite
PYTHON ?= python3
TOOLS := .tools
VENV := .venv

$(TOOLS)/bin/uv:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv>=0.5,<1"

$(VENV)/.synced: $(TOOLS)/bin/uv pyproject.toml uv.lock
	$(TOOLS)/bin/uv sync --frozen --compile-bytecode --python $(PYTHON)
	touch $@

.PHONY: install run test lint
install: $(VENV)/.synced

run: install
	$(VENV)/bin/booking serve

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: lint
	$(VENV)/bin/python -m pytest
