# congvan: two commands do everything on a fresh machine:
#   make run    install what is missing, ingest the sample inbox into data/congvan.db
#   make test   install what is missing, run the fast test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SHARED ?= ../shared
DB ?= data/congvan.db
JOBS ?=
APT_PACKAGES := tesseract-ocr tesseract-ocr-vie tesseract-ocr-eng poppler-utils fonts-dejavu-core fonts-freefont-ttf
BENCH_APT_PACKAGES := ocrmypdf

.PHONY: install system-deps run test test-all models serve bench bench-deps bench-ocr bench-inbox bench-restore bench-extract bench-robust clean

install: system-deps $(VENV)/.installed

# Debian packages, only when something is missing (we are root on CI and dev boxes).
system-deps:
	@missing=""; \
	command -v tesseract >/dev/null || missing="$$missing tesseract-ocr tesseract-ocr-eng"; \
	command -v tesseract >/dev/null && { tesseract --list-langs 2>/dev/null | grep -qx vie || missing="$$missing tesseract-ocr-vie"; }; \
	command -v tesseract >/dev/null || missing="$$missing tesseract-ocr-vie"; \
	command -v pdftoppm >/dev/null || missing="$$missing poppler-utils"; \
	fc-list 2>/dev/null | grep -qi dejavu || missing="$$missing fonts-dejavu-core"; \
	fc-list 2>/dev/null | grep -qi freeserif || missing="$$missing fonts-freefont-ttf"; \
	$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
	  echo "==> installing Debian packages:$$missing (apt-get, a minute or two)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# A .venv left half-made by an interrupted run (no pip, a python that does not
# start) is made again rather than trusted; pip finishes a half-done install.
$(VENV)/.installed: pyproject.toml
	@if ! { [ -x $(BIN)/pip ] && $(BIN)/python -c 'import sys' 2>/dev/null; }; then \
	  [ -e $(VENV) ] && echo "==> $(VENV) is incomplete (an interrupted install?): making it again"; \
	  rm -rf $(VENV); \
	  echo "==> creating the virtualenv $(VENV)"; \
	  $(PYTHON) -m venv $(VENV); \
	fi
	@echo "==> installing congvan and its Python dependencies into $(VENV) (pip; a few minutes the first time)"
	$(BIN)/pip install --disable-pip-version-check --progress-bar on -e '.[test,analyst]'
	@touch $@
	@echo "==> installed: run $(BIN)/congvan --help (or: source $(BIN)/activate)"

run: install
	$(BIN)/congvan ingest data/inbox --db $(DB) $(if $(JOBS),--jobs $(JOBS))

test: install
	$(BIN)/python -m pytest

test-all: install
	$(BIN)/python -m pytest -m '' 

# Rebuild every trained artefact in models/ from $(SHARED)/corpus.
models: install
	$(BIN)/python -m pipeline.training.restore_models --corpus $(SHARED)/corpus --out models

bench-deps: install
	@command -v ocrmypdf >/dev/null || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); $$SUDO apt-get install -y -qq $(BENCH_APT_PACKAGES) >/dev/null; }

# The analyst's web view of the database (Datasette on 127.0.0.1).
serve: install
	$(BIN)/congvan serve --db $(DB)

bench: bench-deps bench-ocr bench-inbox bench-restore bench-extract

bench-ocr: bench-deps
	$(BIN)/python -m benchmarks.ocr --inbox $(SHARED)/dev/inbox --corpus $(SHARED)/corpus --out benchmarks/results/ocr.md

bench-inbox: bench-deps
	$(BIN)/python -m benchmarks.inbox --out benchmarks/results/inbox.md

bench-restore: install
	$(BIN)/python -m benchmarks.restore --corpus $(SHARED)/corpus --dev $(SHARED)/dev

# One `congvan inbox` pass over a hostile inbox (benchmarks/hostile_inbox.py):
# counts, exit code, tracebacks on the terminal, peak memory.
bench-robust: install
	$(BIN)/python -m benchmarks.robust

bench-extract: install
	$(BIN)/python -m benchmarks.extract --dev $(SHARED)/dev

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
