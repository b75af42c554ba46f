# Two commands on a fresh machine: `make main` (the main job) and `make test`.
# Both create .venv with Python 3.12 (selected by .python-version through pyenv) and install
# the project and its test tools into it first.

PYTHON ?= $(shell command -v python3.12 2>/dev/null || echo python3)
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: main test lint benchmark clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "Python >= 3.12 is needed (pyenv: see .python-version); got " + sys.version)'
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e ".[dev]"
	$(VENV)/bin/python -m abm.app.assets  # the workshop app's browser files, for offline use
	touch $(STAMP)

POSTERIOR := calibration/calibrated/main/posterior.parquet
# Posterior draws x seeds of the comparison under uncertainty. 50 x 2 (2,000 runs) is what
# settles each probability to a Monte Carlo error of 0.07 or less; on 2 cores it takes about
# 2 h with Model 0.3.0, so make main keeps 12 x 1 (240 runs, about a quarter of an hour) and
# prints each probability's error: `make main UNCERTAINTY_DRAWS=50 UNCERTAINTY_SEEDS=2`.
UNCERTAINTY_DRAWS ?= 12
UNCERTAINTY_SEEDS ?= 1

main: $(STAMP)
	$(VENV)/bin/abm sweep experiments/main.yaml --out results/main
	@if [ -f $(POSTERIOR) ]; then \
	  $(VENV)/bin/abm uncertainty experiments/main.yaml --posterior $(POSTERIOR) \
	    --draws $(UNCERTAINTY_DRAWS) --seeds $(UNCERTAINTY_SEEDS) \
	    --out results/uncertainty; \
	else \
	  echo "No calibration shipped ($(POSTERIOR)): intervals above are over seeds only."; \
	fi

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/python -m pytest

benchmark: $(STAMP)
	$(VENV)/bin/python -m benchmarks.throughput --devon
	$(VENV)/bin/python -m benchmarks.parallel
	$(VENV)/bin/python -m benchmarks.app

clean:
	rm -rf $(VENV) results
