# The two set-up commands of the README:
#   make run    install everything into .venv and start the bot on the embedded defaults
#   make test   install everything into .venv and run ruff, mypy and the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The CPU build of torch; a GPU host installs the CUDA build of the same release first
# (see README), which this pin keeps.
TORCH ?= torch==2.13.0

.PHONY: install run test lint bench clean

$(BIN)/videobot: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet "$(TORCH)"
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

install: $(BIN)/videobot

run: install
	$(BIN)/videobot run

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q

bench: install
	$(BIN)/python bench/overhead.py

clean:
	rm -rf $(VENV) videobot-data .pytest_cache .mypy_cache .ruff_cache
