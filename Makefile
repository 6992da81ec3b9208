# s3-once: `make run` shows it working locally, `make test` proves it. Nothing else to install by hand.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
BENCH_STAMP := $(VENV)/.bench-installed

.PHONY: run test soak lint typecheck bench package deploy clean

$(PY_STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## run: the main job on an embedded local AWS (moto): FILES=<dir>, PROCESSOR=<name>, STAGE=<stage>
run: $(PY_STAMP)
	@$(BIN)/s3once $(if $(STAGE),--stage $(STAGE)) run \
		$(if $(FILES),--files "$(FILES)") $(if $(PROCESSOR),--processor $(PROCESSOR))

## test: lint, type-check, then every test against DynamoDB Local and moto (started by the tests)
test: $(PY_STAMP) $(NODE_STAMP) lint typecheck
	$(PY) -m pytest $(PYTEST_ARGS)

## soak: SCHEDULES=N randomized fault schedules on DynamoDB Local (default 500); SEED=S replays one
soak: $(PY_STAMP) $(NODE_STAMP)
	$(PY) -m tests.faultsuite $(if $(SEED),--seed $(SEED),--schedules $(or $(SCHEDULES),500))

lint: $(PY_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(PY_STAMP)
	$(BIN)/mypy app.py chalicelib s3once scripts tests benchmarks

$(BENCH_STAMP): $(PY_STAMP) requirements-bench.txt
	$(PY) -m pip install --quiet -r requirements-bench.txt
	touch $@

## bench: every benchmark side by side in one run; prints tables, writes docs/benchmarks.md
bench: $(PY_STAMP) $(BENCH_STAMP) $(NODE_STAMP)
	$(PY) -m benchmarks --write docs/benchmarks.md

## package: the stage's Terraform package from the same clean copy: STAGE=<stage> (default dev)
package: $(PY_STAMP)
	$(PY) -m scripts.package --stage $(or $(STAGE),dev) --out build/terraform/$(or $(STAGE),dev)

## deploy: `chalice deploy` of STAGE=<stage> (default dev) from a clean copy, with bytecode
deploy: $(PY_STAMP)
	$(PY) -m scripts.deploy --stage $(or $(STAGE),dev) $(if $(CHALICE_ARGS),-- $(CHALICE_ARGS))

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache .hypothesis .s3once
