"""Unpartitioned serving tables (the ticket tables) replaced whole from gold, against the real
Cassandra node: rows, orgs and months gone from gold disappear, a re-load changes nothing, the
checks compare the whole table and the watermark is gold's newest date."""

from datetime import date

import pytest
from dagster import DagsterInstance, materialize
from pyspark.sql import types as T

from cloud_analytics.lib.lake import table_path
from cloud_analytics.resources.cassandra import CassandraResource
from cloud_analytics.resources.lake import LakeResource
from cloud_analytics.resources.spark import SparkResource
from cloud_analytics.serving.assets import ROW_COUNT, SAMPLE, build_serving_asset
from cloud_analytics.serving.specs import TICKETS_BY_DAY, TICKETS_BY_ORG_DAY
from cloud_analytics.serving.state import batch_covered_until

pytestmark = pytest.mark.cassandra

KEYSPACE = "serving_whole_table_test"
GOLD = T.StructType([T.StructField(n, t) for n, t in (
    ("org_id", T.StringType()), ("date", T.DateType()), ("severity", T.StringType()), ("opened", T.LongType()),
    ("resolved", T.LongType()), ("open_backlog", T.LongType()), ("critical_count", T.LongType()),
    ("sla_breached", T.LongType()), ("sla_breach_rate", T.DoubleType()), ("csat_count", T.LongType()),
    ("mean_csat", T.DoubleType()))])


def _gold_row(org, day, severity, opened):
    return (org, day, severity, opened, 0, opened, 1 if severity == "critical" else 0, 0, 0.0, 0, float("nan"))


@pytest.fixture(scope="module")
def whole_table(spark, settings, cassandra, tmp_path_factory):
    lake = LakeResource(root=str(tmp_path_factory.mktemp("whole_table_lake")), landing="unused")
    keyspace = CassandraResource(hosts=list(cassandra.hosts), port=cassandra.port, keyspace=KEYSPACE)
    resources = {"spark": SparkResource.from_settings(settings), "lake": lake, "cassandra": keyspace}
    assets = [build_serving_asset(TICKETS_BY_ORG_DAY), build_serving_asset(TICKETS_BY_DAY)]

    def load(rows):
        spark.createDataFrame(rows, GOLD).write.format("delta").mode("overwrite").save(
            table_path(lake.root, "gold", "tickets_by_org_date"))
        with DagsterInstance.ephemeral() as instance:
            result = materialize(assets, resources=resources, instance=instance, raise_on_error=True)
        checks = {(e.asset_key.path[-1], e.check_name): e for e in result.get_asset_check_evaluations()}
        materializations = [e.step_materialization_data.materialization
                            for e in result.get_asset_materialization_events()]
        metadata = {m.asset_key.path[-1]: m.metadata for m in materializations}
        return checks, metadata

    yield keyspace, load
    with keyspace.session(use_keyspace=False) as session:
        session.execute(f"DROP KEYSPACE IF EXISTS {KEYSPACE}")


def _by_org_day(session):
    return sorted((r.org_id, r.ticket_date.date(), r.severity, r.opened)
                  for r in session.execute("SELECT org_id, ticket_date, severity, opened FROM tickets_by_org_day"))


def _by_day(session):
    return sorted((r.month, r.ticket_date.date(), r.org_id, r.opened)
                  for r in session.execute("SELECT month, ticket_date, org_id, opened FROM tickets_by_day"))


def test_a_whole_table_load_replaces_everything_and_follows_gold(whole_table):
    keyspace, load = whole_table
    first = [_gold_row("org_1", date(2025, 6, 30), "low", 2), _gold_row("org_1", date(2025, 7, 2), "critical", 1),
             _gold_row("org_2", date(2025, 7, 2), "low", 4), _gold_row("org_3", date(2025, 8, 1), "high", 3)]
    checks, metadata = load(first)
    assert all(c.passed for c in checks.values()) and len(checks) == 4
    assert checks[("tickets_by_org_day", ROW_COUNT)].metadata["cassandra_rows"].value == 4
    assert checks[("tickets_by_org_day", SAMPLE)].metadata["rows_compared"].value == 4
    assert metadata["tickets_by_org_day"]["window"].value == "whole table"
    with keyspace.session() as session:
        assert _by_org_day(session) == [("org_1", date(2025, 6, 30), "low", 2),
                                        ("org_1", date(2025, 7, 2), "critical", 1),
                                        ("org_2", date(2025, 7, 2), "low", 4), ("org_3", date(2025, 8, 1), "high", 3)]
        assert _by_day(session) == [("2025-06", date(2025, 6, 30), "org_1", 2), ("2025-07", date(2025, 7, 2), "org_1", 1),
                                    ("2025-07", date(2025, 7, 2), "org_2", 4), ("2025-08", date(2025, 8, 1), "org_3", 3)]
        assert batch_covered_until(session, "tickets_by_org_day") == date(2025, 8, 1)
        before = (_by_org_day(session), _by_day(session))

    # The same gold again: the same tables.
    checks, _ = load(first)
    assert all(c.passed for c in checks.values())
    with keyspace.session() as session:
        assert (_by_org_day(session), _by_day(session)) == before

    # Gold rebuilt from a newer snapshot: a row gone (org_1 critical), a whole org gone (org_3,
    # so its CQL partition only exists in Cassandra), a whole month gone (2025-08), a count
    # corrected, a new day. Cassandra follows exactly, with nothing left over.
    second = [_gold_row("org_1", date(2025, 6, 30), "low", 5), _gold_row("org_2", date(2025, 7, 2), "low", 4),
              _gold_row("org_2", date(2025, 7, 3), "low", 1)]
    checks, metadata = load(second)
    assert all(c.passed for c in checks.values())
    assert metadata["tickets_by_org_day"]["partitions_replaced"].value == 3  # org_1, org_2 and the gone org_3
    with keyspace.session() as session:
        assert _by_org_day(session) == [("org_1", date(2025, 6, 30), "low", 5), ("org_2", date(2025, 7, 2), "low", 4),
                                        ("org_2", date(2025, 7, 3), "low", 1)]
        assert _by_day(session) == [("2025-06", date(2025, 6, 30), "org_1", 5), ("2025-07", date(2025, 7, 2), "org_2", 4),
                                    ("2025-07", date(2025, 7, 3), "org_2", 1)]
        # The watermark never moves back (serving/state.py), even when gold's newest date does.
        assert batch_covered_until(session, "tickets_by_day") == date(2025, 8, 1)
        state = session.execute("SELECT max_date FROM serving_state WHERE table_name = 'tickets_by_day'").one()
        assert state.max_date.date() == date(2025, 7, 3)
        assert session.execute("SELECT mean_csat FROM tickets_by_org_day WHERE org_id = 'org_2'").one()[0] is None
        assert isinstance(session.execute("SELECT opened FROM tickets_by_org_day").one()[0], int)


GENAI = T.StructType([T.StructField(n, t) for n, t in (
    ("org_id", T.StringType()), ("date", T.DateType()), ("genai_tokens", T.LongType()),
    ("genai_event_count", T.LongType()), ("estimated_cost_usd", T.DecimalType(20, 8)),
    ("recorded_cost_usd", T.DecimalType(18, 2)))])


def test_a_partitioned_load_replaces_its_window_in_every_partition(spark, settings, cassandra, tmp_path):
    """The same asset code on a daily window (genai_by_org_day): an org gone from gold loses its
    rows of the window, an org new to Cassandra is loaded, the days outside the window stay."""
    from decimal import Decimal

    from cloud_analytics.serving.specs import GENAI_BY_ORG_DAY

    lake = LakeResource(root=str(tmp_path), landing="unused")
    keyspace = CassandraResource(hosts=list(cassandra.hosts), port=cassandra.port, keyspace=KEYSPACE + "_daily")
    resources = {"spark": SparkResource.from_settings(settings), "lake": lake, "cassandra": keyspace}
    asset = build_serving_asset(GENAI_BY_ORG_DAY)

    def load(rows, day):
        spark.createDataFrame(rows, GENAI).write.format("delta").mode("overwrite").partitionBy("date").save(
            table_path(lake.root, "gold", "genai_tokens_by_org_date"))
        with DagsterInstance.ephemeral() as instance:
            result = materialize([asset], resources=resources, instance=instance, partition_key=day)
        assert all(c.passed for c in result.get_asset_check_evaluations())

    def served(session):
        return sorted((r.org_id, r.usage_date.date(), r.tokens) for r in
                      session.execute("SELECT org_id, usage_date, tokens FROM genai_by_org_day"))

    def row(org, day, tokens):
        return (org, date(2025, 7, day), tokens, 1, Decimal(tokens) / 500, Decimal("0.10"))

    try:
        first = [row("org_1", 1, 10), row("org_1", 2, 20), row("org_2", 1, 30), row("org_2", 2, 40)]
        load(first, "2025-07-01")
        load(first, "2025-07-02")
        # Gold changes: org_2 gone, org_1's day corrected, org_3 new; only 2025-07-02 is re-loaded.
        load([row("org_1", 1, 10), row("org_1", 2, 21), row("org_3", 2, 50)], "2025-07-02")
        with keyspace.session() as session:
            assert served(session) == [("org_1", date(2025, 7, 1), 10), ("org_1", date(2025, 7, 2), 21),
                                       ("org_2", date(2025, 7, 1), 30),  # outside the window: untouched
                                       ("org_3", date(2025, 7, 2), 50)]
            assert batch_covered_until(session, "genai_by_org_day") == date(2025, 7, 2)
    finally:
        with keyspace.session(use_keyspace=False) as session:
            session.execute(f"DROP KEYSPACE IF EXISTS {keyspace.keyspace}")
