"""Cassandra stopped in the middle of a serving load, then restarted.

``serving/test_serving_assets.py`` already stops the node *before* a load (clear error, retry
succeeds). Added here: the node goes down *during* the upserts, after the window's range
deletes and half of its rows were written, so the table is left half loaded. The run must
fail naming the node; after the restart the audit must see the half-loaded table, and a
retry must leave Cassandra equal to gold again (rows and money, via the audit and a direct
count). The session's test node is restarted before anything else can need it.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from pyspark.sql import functions as F

from cloud_analytics.audit import run_audit
from cloud_analytics.lib.errors import PipelineError
from cloud_analytics.resources.cassandra import CassandraResource
from cloud_analytics_tests.faults import steps
from cloud_analytics_tests.faults.helpers import FAULT_LAKE_LAWS, assert_audit_passes, law_serving, read


def _served(settings):
    with CassandraResource.from_settings(settings).session() as session:
        rows = list(session.execute("SELECT daily_cost_usd, event_count, source FROM org_daily_usage"))
    batch = [r for r in rows if r.source == "batch"]
    return len(batch), sum((r.daily_cost_usd for r in batch), Decimal(0)), sum(r.event_count for r in batch)


def test_cassandra_stopped_during_a_load_then_a_retry_matches_gold(fault_lake, cassandra_node, spark, monkeypatch):
    import cloud_analytics.serving.loader as loader

    s = fault_lake.settings
    gold = read(spark, s, "gold", "org_daily_usage_by_service")
    expected = gold.agg(F.count(F.lit(1)).alias("rows"), F.sum("daily_cost_usd").alias("cost"),
                        F.sum("event_count").alias("events")).first()
    assert _served(s) == (expected["rows"], expected["cost"], expected["events"])  # the base load is whole

    real_execute = loader.execute_all
    outage = {"written": 0, "stopped": False}

    def node_dies_half_way(session, statement, params, target, concurrency=loader.CONCURRENCY):
        if statement.query_string.startswith("INSERT") and not outage["stopped"]:
            params = list(params)
            outage["written"] = real_execute(session, statement, params[: len(params) // 2], target, concurrency)
            cassandra_node.stop(log=lambda _m: None)
            outage["stopped"] = True
            return outage["written"] + real_execute(session, statement, params[len(params) // 2:], target, concurrency)
        return real_execute(session, statement, params, target, concurrency)

    monkeypatch.setattr(loader, "execute_all", node_dies_half_way)
    try:
        with pytest.raises(PipelineError) as failed:
            fault_lake.step("serving during outage", steps.SERVING_USAGE, partition_range=fault_lake.days)
    finally:
        monkeypatch.undo()
        if not cassandra_node.is_running():
            cassandra_node.start(timeout_s=s.cassandra_start_timeout_s, log=lambda _m: None)
    assert outage["stopped"] and 0 < outage["written"] < expected["rows"]
    message = str(failed.value)
    assert "step 'serving during outage' failed" in message
    assert f"127.0.0.1:{s.cassandra_port}" in message, message

    # Back up, the table holds the half load: the audit must say so.
    rows, _cost, _events = _served(s)
    assert rows == outage["written"]
    report = run_audit(s, spark=spark)
    law = next(law for law in report.laws if law.name == law_serving("org_daily_usage"))
    assert not law.ok and f"{outage['written']:,} cassandra" in law.detail, law.detail

    fault_lake.step("serving retry", steps.SERVING_USAGE, partition_range=fault_lake.days)
    assert _served(s) == (expected["rows"], expected["cost"], expected["events"])
    assert_audit_passes(s, spark, FAULT_LAKE_LAWS)
