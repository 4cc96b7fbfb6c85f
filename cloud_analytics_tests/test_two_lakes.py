"""Two lakes with two keyspaces in one process do not leak into each other: settings are read
at the edge and passed down (resources), so nothing inside a layer consults the environment.
The test session exports its own lake, keyspace and pepper; both lakes here must ignore them."""

from __future__ import annotations

import csv
import hashlib
import hmac
import os
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance

from cloud_analytics.config import load_settings

pytestmark = pytest.mark.spark
PEPPERS = {"a": "pepper-of-lake-a-0123456789abcdef", "b": "pepper-of-lake-b-fedcba9876543210"}
SEEDS = {"a": 11, "b": 12}
SELECTION = [AssetKey(p) for p in (["bronze", "customers_orgs"], ["bronze", "users"], ["silver", "customers_orgs"],
                                   ["silver", "customers_orgs_history"], ["silver", "users"],
                                   ["quarantine", "customers_orgs"], ["quarantine", "users"])]


def _settings(root: Path, name: str):
    return load_settings({
        "CLOUD_ANALYTICS_LAKE": str(root / name / "datalake"),
        "CLOUD_ANALYTICS_CASSANDRA_KEYSPACE": f"lake_{name}",
        "CLOUD_ANALYTICS_PII_PEPPER": PEPPERS[name],
        "CLOUD_ANALYTICS_SPARK_SHUFFLE_PARTITIONS": "2",
    }, dotenv=root / "no.env")


def _expected_hashes(users_csv: Path, pepper: str) -> dict[str, str]:
    """user_id -> HMAC-SHA256(pepper, lower(trim(email))), computed here with hmac."""
    with open(users_csv, newline="") as handle:
        return {r["user_id"]: hmac.new(pepper.encode(), r["email"].strip().lower().encode(), hashlib.sha256).hexdigest()
                for r in csv.DictReader(handle) if r["email"]}


def test_two_lakes_and_keyspaces_in_one_process(tmp_path, spark, test_env):
    from cloud_analytics.definitions import build_definitions, build_resources
    from cloud_analytics.landing.generator import generate
    from cloud_analytics.orchestration.jobs import SNAPSHOT_JOB
    from cloud_analytics.orchestration.ranges import Plan
    from cloud_analytics.orchestration.runner import run_job
    from cloud_analytics.partitions import snapshot_daily

    today = snapshot_daily.get_last_partition_key()
    lakes = {name: _settings(tmp_path, name) for name in ("a", "b")}
    for name, settings in lakes.items():
        generate(settings.landing, scale=1, seed=SEEDS[name])
    for name, settings in lakes.items():  # one after the other, in this process, with its own defs
        assert build_resources(settings)["cassandra"].keyspace == f"lake_{name}"
        with DagsterInstance.ephemeral() as instance:
            step = run_job(build_definitions(settings), Plan(SNAPSHOT_JOB, partition_key=today), instance,
                           selection=SELECTION, log=lambda _m: None)
        assert step.failed_checks == []

    env_pepper = os.environ["CLOUD_ANALYTICS_PII_PEPPER"]
    assert env_pepper not in PEPPERS.values() and os.environ["CLOUD_ANALYTICS_LAKE"] != str(lakes["a"].lake)
    ids = {}
    for name, settings in lakes.items():
        expected = _expected_hashes(settings.landing / "users.csv", PEPPERS[name])
        stored = {r["user_id"]: r["email_hash"] for r in spark.read.format("delta")
                  .load(f"{settings.lake}/silver/users").filter(f"snapshot_date = DATE'{today}'").collect()}
        assert len(stored) > 700  # the users kept by silver (a few may be quarantined)
        assert {u: h for u, h in stored.items()} == {u: expected[u] for u in stored}
        ids[name] = set(stored)
    # Different seeds, different users: each lake holds only its own landing's rows.
    assert ids["a"] and ids["b"] and not ids["a"] & ids["b"]
