# wachat — one-command setup, tests, demo.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# A local wheel directory (e.g. /opt/wheels) holds the CPU torch build on machines that have it.
FIND_LINKS := $(if $(wildcard /opt/wheels),--find-links /opt/wheels,)
# Pin the CPU build of torch on machines without CUDA: an unpinned torch pulls GBs of CUDA packages.
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.setup-done

.PHONY: setup test run screenshots bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml setup.py wachat_tui/core/parse/_hotloop.c Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip setuptools wheel
	$(PY) -c "import torch" 2>/dev/null || $(PIP) install $(FIND_LINKS) "$(TORCH_SPEC)"
	CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) $(PIP) install $(FIND_LINKS) -e ".[all,dev]"
	# llama.cpp's GGUF converter from the installed llama-cpp-python's sdist (no-op when present)
	$(PY) -m wachat_tui.export.converter install
	touch $(STAMP)

test: setup
	$(PY) -m pytest -q

run: setup
	$(VENV)/bin/wachat demo

screenshots: setup
	$(PY) -m wachat_tui.tui.screenshots screenshots

bench: setup
	$(PY) benchmarks/parse_bench.py
	$(PY) benchmarks/chat_bench.py
	$(PY) benchmarks/export_bench.py --archs
	$(PY) benchmarks/train_bench.py

clean:
	rm -rf $(VENV) build *.egg-info
