# Two commands do everything: `make lab` (open the notebooks) and `make test` (run every test).
# Both create the virtual environment in .venv on first use.

SHELL := bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
PIP_FLAGS := --quiet --disable-pip-version-check --no-input
LAB_ARGS ?=
# Jupyter refuses to run as root unless told to (containers and CI machines often are root).
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)
NB ?=
# OpenMP threads that wait by sleeping, not spinning: notebooks sharing their cores with another CPU-bound process
# (a second kernel, a CI job) otherwise slow down 10x and more (issue 18). Kernels import torch before vislib, so
# vislib.runtime cannot set it for them: the commands below pass it on.
export OMP_WAIT_POLICY ?= PASSIVE

.PHONY: setup lab test test-browser lint check strip student-notebooks benchmark weights prepare clean

$(INSTALLED): pyproject.toml
	@echo "Setting up $(VENV) (first run only: PyTorch alone is a few GB, allow a few minutes)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install $(PIP_FLAGS) -e ".[dev]" 2>&1 | { grep -v "^WARNING: Location" || true; }
	# tidecv (a test oracle) without its declared opencv-python, which would replace OpenCV's contrib build.
	$(BIN)/python -m pip install $(PIP_FLAGS) --no-deps "tidecv>=1.0.1" 2>&1 | { grep -v "^WARNING: Location" || true; }
	$(BIN)/python -c "import vislib, torch, torchvision, ipywidgets, cv2, nbval"
	touch $@

setup: $(INSTALLED)

## The main job: JupyterLab on the notebooks, opening the start-here notebook (token authentication on).
lab: $(INSTALLED)
	cd notebooks && ../$(BIN)/jupyter lab --ip=127.0.0.1 $(ROOT_FLAG) $(LAB_ARGS) 00_start_here.ipynb

## Unit tests plus every notebook run top to bottom by nbval, in the quick profile (training for real: no cached weights).
test: $(INSTALLED)
	VISLIB_PROFILE=quick VISLIB_RETRAIN=1 $(BIN)/python -m pytest --nbval-lax --nbval-current-env tests $(NOTEBOOKS)

## The notebooks in a real browser: JupyterLab in the system's Chromium (Playwright, from the dev extra; no
## browser download), default and projector style; screenshots into build/screenshots/<style>/, latencies into
## BENCHMARKS.md. BROWSER_ARGS="-k 06" for one notebook; BROWSER_STYLES=default for one style (CI's subset);
## BROWSER_WIDGET_STYLES=projector adds the cheap pass: only the headline widgets, checked and screenshotted (CI).
BROWSER_ARGS ?=
BROWSER_STYLES ?= default,projector
BROWSER_WIDGET_STYLES ?=
test-browser: $(INSTALLED)
	VISLIB_BROWSER_TEST=1 VISLIB_BROWSER_STYLES=$(BROWSER_STYLES) VISLIB_BROWSER_WIDGET_STYLES=$(BROWSER_WIDGET_STYLES) \
		VISLIB_PROFILE=quick $(BIN)/python -m pytest tests/browser $(BROWSER_ARGS)

## Lint and format check (ruff, configured in pyproject.toml).
lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## A student's self-check of one notebook: make check NB=notebooks/student/00_start_here.ipynb
check: $(INSTALLED)
	@test -n "$(NB)" || { echo "usage: make check NB=notebooks/student/00_start_here.ipynb"; exit 2; }
	VISLIB_PROFILE=quick $(BIN)/python -m pytest --nbval-lax --nbval-current-env "$(NB)"

## Maintainers: remove outputs JupyterLab saved into the notebooks, before committing (the tests check the git index).
strip: $(INSTALLED)
	$(BIN)/python -m vislib.tools.strip_outputs

## Maintainers: regenerate notebooks/student/ from the solution notebooks (overwrites them).
student-notebooks: $(INSTALLED)
	$(BIN)/python -m vislib.tools.student_notebooks

## Maintainers: time notebooks and widgets, update BENCHMARKS.md (VISLIB_PROFILE=full for the lecture profile).
benchmark: $(INSTALLED)
	$(BIN)/python -m vislib.tools.benchmark

## Maintainers: retrain the headline models (07 YOLO, 08 Faster R-CNN, 09 Mask R-CNN) in the full profile and write
## assets/weights/*.safetensors and manifest.json (minutes per model on 2 CPU cores). NAMES="07_yolo" for one.
NAMES ?=
weights: $(INSTALLED)
	$(BIN)/python -m vislib.tools.weights $(NAMES)

## The evening before a lecture: run every notebook in the full profile once, filling the local cache (.cache/).
prepare: $(INSTALLED)
	VISLIB_PROFILE=$${VISLIB_PROFILE:-full} $(BIN)/python -m vislib.tools.weights --prepare

clean:
	rm -rf $(VENV) vislib.egg-info
