# The two commands: `make run` (set up, then run the pipeline end to end) and `make test`.
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

SCALE ?= 1

.PHONY: help setup run test test-fast test-cluster bench dev dashboard screenshots cassandra-start cassandra-stop \
	cassandra-status spark-start spark-stop spark-status cluster-setup cluster-start cluster-stop cluster-status cluster-env clean

help:
	@echo "make run    set up if needed, generate landing data if empty, start Cassandra, run the pipeline"
	@echo "make test   set up if needed, run the full test suite (first tier first)"
	@echo "make test-fast  import contracts and the first tier only (seconds)"
	@echo "make bench  the pipeline benchmark at SCALE (default 1): per-step figures, audit, re-run, DuckDB baseline"
	@echo "make dev    the Spark service, then dagster dev on 127.0.0.1:3000"
	@echo "make dashboard  the FinOps dashboard on 127.0.0.1:8501 (reads Cassandra; run make run first)"
	@echo "make screenshots  regenerate the README's screenshots (docs/images) with the browser tests"
	@echo "make setup  venv + pinned packages, JDK 17 + Maven, JVM jars via mvn (idempotent)"
	@echo "make spark-start  a long-lived Spark Connect server on 127.0.0.1:15002: the CLI, make run, make dev and"
	@echo "                  sensor runs connect to it instead of starting and warming up a JVM each"
	@echo "make spark-stop / make spark-status  stop it / whether it runs (exit 3 when stopped)"
	@echo "make cluster-start  cluster mode on loopback: Spark master + 2 workers + the Spark service, SeaweedFS (S3),"
	@echo "                    3 Cassandra nodes (RF=3), Postgres + the Dagster daemon; then"
	@echo "                    eval \"\$$(.venv/bin/cloud-analytics cluster env)\" && make run   runs the pipeline there"
	@echo "make cluster-stop / cluster-status / cluster-env  (see docs/deployment.md)"
	@echo "make test-cluster  the cluster tests alone, in a loopback-only network namespace"

setup:
	@bash scripts/setup.sh

run: setup
	$(BIN)/cloud-analytics run

# The first tier fails in seconds (import contracts, the asset-graph snapshot, pure planning);
# the rest needs Spark and a Cassandra node started once for the session.
# The cluster tests (make test-cluster) are not in make test yet: two of them still fail (see
# docs/deployment.md). They start a cluster of their own inside a network namespace with only
# loopback: traffic to any other address fails instead of leaving.
test: setup
	@bash scripts/setup.sh browser cluster
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -m fast -q
	$(BIN)/python -m pytest -m "not fast and not cluster" --durations=30
	CLOUD_ANALYTICS_TEST_SPARK_SERVICE=1 $(BIN)/python -m pytest -m both_modes -q --durations=10

test-cluster: cluster-setup
	bash scripts/loopback-only.sh $(BIN)/python -m pytest -m cluster -q --durations=10

test-fast: setup
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -m fast -q

# Benchmark-only dependency (DuckDB) installed here, not by `make setup`. Run it alone on the machine.
bench: setup
	$(BIN)/python -m pip install -q -e ".[bench]"
	$(BIN)/python benchmarks/pipeline.py --scale $(SCALE)

# The runs its sensors launch connect to the Spark service instead of starting a JVM each, and
# the sensors look for new files every 5 s (a landed file's latency starts with that wait).
dev: export CLOUD_ANALYTICS_SENSOR_INTERVAL ?= 5
dev: setup
	$(BIN)/cloud-analytics spark start
	$(BIN)/dagster dev -w workspace.yaml -h $${DAGSTER_HOST:-127.0.0.1} -p $${DAGSTER_PORT:-3000}

dashboard: setup
	$(BIN)/cloud-analytics dashboard --host $${DASHBOARD_HOST:-127.0.0.1} --port $${DASHBOARD_PORT:-8501}

# The README's screenshots (docs/images), taken by the browser tests on the test session's data.
screenshots: setup
	@bash scripts/setup.sh browser
	CLOUD_ANALYTICS_SCREENSHOTS=$(CURDIR)/docs/images $(BIN)/python -m pytest cloud_analytics_tests/browser -q \
		-k "org_view or platform_overview or asset_graph"

# The local servers: `make cassandra-start` is `cloud-analytics cassandra start`, and so on.
SERVER_TARGETS := $(foreach server,cassandra spark cluster,$(server)-start $(server)-stop $(server)-status) cluster-env

cassandra-start spark-start: setup
cluster-start: cluster-setup

cluster-setup: setup
	@bash scripts/setup.sh cluster

$(SERVER_TARGETS):
	@$(BIN)/cloud-analytics $(subst -, ,$@)

clean:
	-$(BIN)/cloud-analytics cluster stop
	-$(BIN)/cloud-analytics cassandra stop
	-$(BIN)/cloud-analytics spark stop
	rm -rf .cassandra .cluster .dagster_home datalake/_checkpoints
	find datalake -mindepth 2 -not -name README.md -delete 2>/dev/null || true
