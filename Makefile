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

.PHONY: install system-deps run test test-all models models-restore models-digits train-deps serve bench bench-deps bench-ocr bench-inbox bench-restore bench-extract bench-handwriting clean

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
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test,analyst]'
	touch $@

run: install
	$(BIN)/congvan ingest data/inbox --db $(DB) $(if $(JOBS),--jobs $(JOBS))

test: install
	$(BIN)/python -m pytest

test-all: install
	$(BIN)/python -m pytest -m '' 

# Rebuild every trained artefact in models/ (seeded: the same inputs give the same models).
models: models-restore models-digits

models-restore: install
	$(BIN)/python -m pipeline.training.restore_models --corpus $(SHARED)/corpus --out models

# Handwriting fonts (Debian) and torch/scikit-learn (the `train` extra), for models-digits only.
HAND_FONT_PACKAGES := fonts-dkg-handwriting fonts-breip fonts-bwht fonts-femkeklaver fonts-humor-sans fonts-klee \
	fonts-rufscript fonts-sjfonts fonts-comic-neue fonts-dancingscript fonts-kaushanscript fonts-yusei-magic \
	fonts-kristi fonts-cabinsketch fonts-seto
train-deps: install
	@fc-list 2>/dev/null | grep -qi BecauseWe || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $(HAND_FONT_PACKAGES) >/dev/null; }
	$(BIN)/python -c "import torch, sklearn" 2>/dev/null || $(BIN)/pip install -q --disable-pip-version-check -e '.[train]'

# The handwritten-digit recogniser (models/digits/digits.npz): a few minutes on two cores.
models-digits: train-deps
	$(BIN)/python -m pipeline.training.digits_train --out models/digits

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

bench-extract: install
	$(BIN)/python -m benchmarks.extract --dev $(SHARED)/dev

# Handwritten numbers and dates: the dev letters, held-out handwriting made by the project, costs.
bench-handwriting: train-deps
	$(BIN)/python -m benchmarks.handwriting --dev $(SHARED)/dev

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
