# All set-up lives here. `make run` = set up + default workflow; `make test` = set up + test suite.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DVC_NO_ANALYTICS := 1

.PHONY: setup run quick test lint bench clean

$(STAMP): requirements.txt pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

run: setup
	PATH=$(abspath $(BIN)):$$PATH snakemake --cores all

quick: setup
	PATH=$(abspath $(BIN)):$$PATH snakemake --cores all --configfile config/quick.yaml

test: setup
	tools/install_browser.sh || echo "no Chromium: the browser test will be skipped"
	tools/local_slurm.sh install || echo "no SLURM/munge/MariaDB packages: the SLURM test will be skipped"
	PATH=$(abspath $(BIN)):$$PATH $(BIN)/pytest -q -n 2 --dist loadfile --durations=25 tests

lint: setup
	PATH=$(abspath $(BIN)):$$PATH snakemake --lint
	PATH=$(abspath $(BIN)):$$PATH snakefmt --check Snakefile rules/*.smk

bench: setup
	PATH=$(abspath $(BIN)):$$PATH $(BIN)/python benchmarks/run_all.py

clean:
	rm -rf results .snakemake
