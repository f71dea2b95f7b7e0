# The two set-up commands of the README:
#   make run    install everything into .venv and start the bot on the embedded defaults
#   make test   install everything into .venv and run ruff, mypy and the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The torch release pyproject.toml pins. scripts/install-torch.sh installs its CUDA build on a
# host with an NVIDIA GPU, its CPU build (PyTorch's CPU index) elsewhere, and says which.
TORCH ?= torch==2.13.0

.PHONY: install run test lint bench clean

$(BIN)/videobot: pyproject.toml scripts/install-torch.sh
	$(PYTHON) -m venv $(VENV)
	scripts/install-torch.sh $(BIN)/pip $(BIN)/python "$(TORCH)"
	$(BIN)/pip install --quiet -e ".[worker,dev]"
	touch $@

install: $(BIN)/videobot
	@echo "videobot is installed in $(VENV): call $(BIN)/videobot, or put it on PATH for" \
		"this shell with: . $(BIN)/activate"

run: install
	$(BIN)/videobot run

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q -n 2

bench: install
	$(BIN)/python bench/overhead.py

clean:
	rm -rf $(VENV) videobot-data .pytest_cache .mypy_cache .ruff_cache
