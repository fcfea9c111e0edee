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

.PHONY: lint check-wheel install system-deps run test test-all models models-restore models-digits train-deps serve bench bench-deps bench-ocr bench-inbox bench-restore bench-extract bench-periods bench-tasks bench-scale bench-handwriting bench-robust bench-search clean

install: system-deps $(VENV)/.installed

# Debian packages, only when something is missing (we are root on CI and dev boxes).
# chromium + chromium-driver: the review desk's browser tests (tests/test_desk_browser.py;
# skipped, saying why, where they are missing); no browser is downloaded at run time.
system-deps:
	@missing=""; \
	command -v tesseract >/dev/null || missing="$$missing tesseract-ocr tesseract-ocr-eng"; \
	command -v tesseract >/dev/null && { tesseract --list-langs 2>/dev/null | grep -qx vie || missing="$$missing tesseract-ocr-vie"; }; \
	command -v tesseract >/dev/null || missing="$$missing tesseract-ocr-vie"; \
	command -v pdftoppm >/dev/null || missing="$$missing poppler-utils"; \
	fc-list 2>/dev/null | grep -qi dejavu || missing="$$missing fonts-dejavu-core"; \
	fc-list 2>/dev/null | grep -qi freeserif || missing="$$missing fonts-freefont-ttf"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null || missing="$$missing chromium-driver"; \
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
	$(BIN)/pip install --disable-pip-version-check --progress-bar on -e '.[test,analyst,dev,cluster]'
	@touch $@
	@echo "==> installed: run $(BIN)/congvan --help (or: source $(BIN)/activate)"

run: install
	$(BIN)/congvan ingest data/inbox --db $(DB) $(if $(JOBS),--jobs $(JOBS))

test: install
	$(BIN)/python -m pytest

# The lint and type gate (configured in pyproject.toml); CI runs it.
lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

# Build the wheel, install it in a fresh virtualenv and run it from / : proves the
# models and data files ship inside it (an editable install would hide that).
WHEEL_VENV ?= build/wheel-venv
check-wheel: install
	rm -rf build/dist $(WHEEL_VENV)
	$(BIN)/pip wheel -q --disable-pip-version-check --no-deps -w build/dist .
	$(PYTHON) -m venv $(WHEEL_VENV)
	$(WHEEL_VENV)/bin/pip install -q --disable-pip-version-check build/dist/congvan-*.whl
	cp tests/letters/kh-cchc-caoloc.txt build/wheel-letter.txt
	cd / && echo "Ke hoach cai cach hanh chinh nam 2024 cua huyen" | $(CURDIR)/$(WHEEL_VENV)/bin/congvan restore
	cd / && $(CURDIR)/$(WHEEL_VENV)/bin/congvan extract $(CURDIR)/build/wheel-letter.txt --json \
	  | $(CURDIR)/$(WHEEL_VENV)/bin/python -c "import json,sys; r=json.load(sys.stdin); assert r['doc_number']=='35/KH-UBND', r['doc_number']; print('wheel ok:', r['doc_number'], r['issue_date'], len(r['tasks']), 'tasks')"
	$(BIN)/python -c "import glob,zipfile; names=zipfile.ZipFile(glob.glob('build/dist/congvan-*.whl')[0]).namelist(); \
	  assert not [n for n in names if n.startswith('pipeline/training')], 'training code in the wheel'; \
	  assert 'congvan_models/restore/lm3.npz' in names, 'models missing from the wheel'; print(len(names), 'files in the wheel')"

test-all: install
	$(BIN)/python -m pytest -m '' 

# Rebuild every trained artefact in models/ (seeded: the same inputs give the same models).
models: models-restore models-digits

models-restore: install
	$(BIN)/python -m pipeline.training.restore_models --corpus $(SHARED)/corpus --out models

# Handwriting fonts (Debian) and torch/scikit-learn/mlxtend/onnx (the `train` extra), for models-digits only.
HAND_FONT_PACKAGES := fonts-dkg-handwriting fonts-breip fonts-bwht fonts-femkeklaver fonts-humor-sans fonts-klee \
	fonts-rufscript fonts-sjfonts fonts-comic-neue fonts-dancingscript fonts-kaushanscript fonts-yusei-magic \
	fonts-kristi fonts-cabinsketch fonts-seto
train-deps: install
	@fc-list 2>/dev/null | grep -qi BecauseWe || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $(HAND_FONT_PACKAGES) >/dev/null; }
	$(BIN)/python -c "import torch, sklearn, mlxtend, onnx" 2>/dev/null || $(BIN)/pip install -q --disable-pip-version-check -e '.[train]'

# The handwritten-digit recogniser (models/digits/digits.npz and digits.onnx): a few minutes on two cores.
models-digits: train-deps
	$(BIN)/python -m pipeline.training.digits_train --out models/digits

bench-deps: install
	@command -v ocrmypdf >/dev/null || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); $$SUDO apt-get install -y -qq $(BENCH_APT_PACKAGES) >/dev/null; }

# The analyst's web view of the database (Datasette on 127.0.0.1).
serve: install
	$(BIN)/congvan serve --db $(DB)

bench: bench-deps bench-ocr bench-inbox bench-restore bench-extract bench-periods bench-tasks bench-scale bench-robust bench-handwriting bench-search

# OCR engines: CER on dev letters with known text (rendered as scans and photos), pages/min on 2 processes;
# then extraction from those letters, every page rendered as scans and photos, per engine.
bench-ocr: install
	$(BIN)/python -m benchmarks.ocr --inbox $(SHARED)/dev/inbox --jobs 2 --rounds 3 --out benchmarks/results/ocr.md
	$(BIN)/python -m benchmarks.rendered_extract --dev $(SHARED)/dev --jobs 2

bench-inbox: bench-deps
	$(BIN)/python -m benchmarks.inbox --out benchmarks/results/inbox.md

bench-restore: install
	$(BIN)/python -m benchmarks.restore --corpus $(SHARED)/corpus --dev $(SHARED)/dev

# One `congvan inbox` pass over a hostile inbox (benchmarks/hostile_inbox.py):
# counts, exit code, tracebacks on the terminal, peak memory.
bench-robust: install
	$(BIN)/python -m benchmarks.robust

# The web search box (d/đ query) beside Datasette's own and the CLI, on the sample letters copied to 2,005.
bench-search: run
	$(BIN)/python -m benchmarks.search_box

bench-extract: install
	$(BIN)/python -m benchmarks.extract --dev $(SHARED)/dev

# Reporting periods (issue 17): dev letters with periods, and hand-golded corpus sentences (held out apart).
bench-periods: install
	$(BIN)/python -m benchmarks.periods --dev $(SHARED)/dev --out benchmarks/results/periods.md

# Task tables (issue 14): the dev Word plans, their PDF renderings, and the whole dev set's responsible units.
bench-tasks: install
	$(BIN)/python -m benchmarks.tasks --dev $(SHARED)/dev

# The local pool against 1 and 2 Dask workers on the same pages, the scheduler's
# overhead per document and the single writer's commits/s (BENCHMARKS.md, issue 16).
bench-scale: install
	$(BIN)/python -m benchmarks.scale --out benchmarks/results/scale.md

# Handwritten numbers and dates: the dev letters, held-out handwriting made by the project, costs;
# then held-out page ones with handwritten slots read whole by each engine.
bench-handwriting: train-deps
	$(BIN)/python -m benchmarks.handwriting --dev $(SHARED)/dev
	$(BIN)/python -m benchmarks.handwriting_pages

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
