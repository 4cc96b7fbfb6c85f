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
from cloud_analytics.serving.specs import PLATFORM_TICKETS_BY_DAY, TICKETS_BY_DAY, TICKETS_BY_ORG_DAY
from cloud_analytics.serving.state import batch_covered_until

pytestmark = pytest.mark.cassandra

KEYSPACE = "serving_whole_table_test"
GOLD = T.StructType([T.StructField(n, t) for n, t in (
    ("org_id", T.StringType()), ("date", T.DateType()), ("severity", T.StringType()), ("opened", T.LongType()),
    ("resolved", T.LongType()), ("open_backlog", T.LongType()), ("critical_count", T.LongType()),
    ("sla_breached", T.LongType()), ("sla_breach_rate", T.DoubleType()), ("csat_count", T.LongType()),
    ("mean_csat", T.DoubleType()))])


def _gold_row(org, day, severity, opened, resolved=0, breached=0):
    return (org, day, severity, opened, resolved, opened, opened if severity == "critical" else 0, breached,
            breached / opened if opened else None, 0, float("nan"))


@pytest.fixture(scope="module")
def whole_table(spark, settings, cassandra, tmp_path_factory):
    lake = LakeResource(root=str(tmp_path_factory.mktemp("whole_table_lake")), landing="unused")
    keyspace = CassandraResource(hosts=list(cassandra.hosts), port=cassandra.port, keyspace=KEYSPACE)
    resources = {"spark": SparkResource.from_settings(settings), "lake": lake, "cassandra": keyspace}
    assets = [build_serving_asset(spec) for spec in (TICKETS_BY_ORG_DAY, TICKETS_BY_DAY, PLATFORM_TICKETS_BY_DAY)]

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
    assert all(c.passed for c in checks.values()) and len(checks) == 6
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


class _CountingSession:
    """A driver session that counts the statements executed per table read (q3's partition reads)."""

    def __init__(self, session):
        self.session, self.statements = session, []

    def prepare(self, query):
        return self.session.prepare(query)

    def execute(self, statement, params=None):
        self.statements.append(statement.query_string.split(" FROM ", 1)[1].split()[0])
        return self.session.execute(statement, params)


def test_q3_defaults_to_the_newest_day_a_ticket_was_opened_and_reads_one_partition_for_all_orgs(whole_table):
    from cloud_analytics.serving import queries

    keyspace, load = whole_table
    # Tickets opened up to Aug 2; the newest ones resolved on Aug 20 (resolution-only rows, as the
    # mart has them), across a month boundary from July.
    checks, _ = load([_gold_row("org_1", date(2025, 7, 30), "critical", 2, breached=1),
                      _gold_row("org_2", date(2025, 7, 30), "low", 3, breached=1),
                      _gold_row("org_1", date(2025, 8, 2), "low", 4),
                      _gold_row("org_1", date(2025, 8, 20), "low", 0, resolved=4),
                      _gold_row("org_2", date(2025, 8, 20), "critical", 0, resolved=2)])
    assert all(c.passed for c in checks.values())
    with keyspace.session() as session:
        assert sorted((r.scope, r.ticket_date.date(), r.opened, r.critical, r.sla_breached) for r in session.execute(
            "SELECT scope, ticket_date, opened, critical, sla_breached FROM platform_tickets_by_day")) == [
            ("all", date(2025, 7, 30), 5, 2, 2), ("all", date(2025, 8, 2), 4, 0, 0)]
        # The tables that follow every ticket day still end at the resolution date; q3's anchor does not.
        assert queries.newest_date(session, "tickets_by_day") == date(2025, 8, 20)
        assert queries.newest_date(session, "platform_tickets_by_day") == date(2025, 8, 2)
        counting = _CountingSession(session)
        q3 = queries.q3_critical_tickets(counting, days=5)  # Jul 29 .. Aug 2 (by hand)
        assert counting.statements == ["serving_state", "platform_tickets_by_day"]  # one partition read
        assert q3 == [
            {"date": date(2025, 7, 30), "opened": 5, "critical": 2, "sla_breached": 2, "sla_breach_rate": 0.4},
            {"date": date(2025, 8, 2), "opened": 4, "critical": 0, "sla_breached": 0, "sla_breach_rate": 0.0}]
        # One org, same anchor; the org's resolution-only day (Aug 20) is not a q3 day.
        org_1 = [{"date": date(2025, 7, 30), "opened": 2, "critical": 2, "sla_breached": 1, "sla_breach_rate": 0.5},
                 {"date": date(2025, 8, 2), "opened": 4, "critical": 0, "sla_breached": 0, "sla_breach_rate": 0.0}]
        assert queries.q3_critical_tickets(session, "org_1", days=5) == org_1
        assert queries.q3_critical_tickets(session, "org_1", as_of=date(2025, 8, 25)) == org_1
        # An explicit as_of works as before: the 30 days up to it, whatever the newest day.
        counting = _CountingSession(session)
        explicit = queries.q3_critical_tickets(counting, as_of=date(2025, 8, 25))
        assert counting.statements == ["platform_tickets_by_day"]
        assert [r["date"] for r in explicit] == [date(2025, 7, 30), date(2025, 8, 2)]
        assert queries.q3_critical_tickets(session, as_of=date(2025, 7, 31), days=1) == []


def test_q4_across_orgs_is_one_partition_of_usd_sums(spark, settings, cassandra, tmp_path):
    """The platform revenue table loaded by month like its mart: each month's USD sums in one
    partition, re-loading a month replaces only that month, q4 for all orgs reads one slice."""
    from decimal import Decimal as D

    from cloud_analytics.gold.specs import GOLD_BY_NAME
    from cloud_analytics.serving import queries
    from cloud_analytics.serving.specs import PLATFORM_REVENUE_BY_MONTH, REVENUE_BY_ORG

    mart = GOLD_BY_NAME["revenue_by_org_month"]
    names = [c.name for c in mart.columns]
    schema = ", ".join(f"`{c.name}` {c.type}" for c in mart.columns)
    lake = LakeResource(root=str(tmp_path), landing="unused")
    keyspace = CassandraResource(hosts=list(cassandra.hosts), port=cassandra.port, keyspace=KEYSPACE + "_revenue")
    resources = {"spark": SparkResource.from_settings(settings), "lake": lake, "cassandra": keyspace}
    assets = [build_serving_asset(REVENUE_BY_ORG), build_serving_asset(PLATFORM_REVENUE_BY_MONTH)]

    def row(org, month, currency, fx, total, total_usd, credits_usd="0.00"):
        usd = None if total_usd is None else D(total_usd)
        values = {"org_id": org, "month": date(2025, month, 1), "currency": currency, "fx_rate": fx,
                  "total": D(total), "subtotal_usd": usd, "credits_usd": None if usd is None else D(credits_usd),
                  "taxes_usd": None if usd is None else D("0.00"), "total_usd": usd, "flags": []}
        return tuple(values.get(n) for n in names)

    def load(rows, month):
        spark.createDataFrame(rows, schema).write.format("delta").mode("overwrite").partitionBy("month").save(
            table_path(lake.root, "gold", "revenue_by_org_month"))
        with DagsterInstance.ephemeral() as instance:
            result = materialize(assets, resources=resources, instance=instance, partition_key=month)
        assert all(c.passed for c in result.get_asset_check_evaluations())

    first = [row("org_1", 6, "USD", 1.0, "100.00", "100.00"),
             row("org_2", 6, "ARS", 0.0015, "200000.00", "300.00", credits_usd="30.00"),  # 200,000 ARS = 300 USD
             row("org_3", 6, "ARS", None, "50000.00", None),  # no rate: no USD amount, never 50,000 "dollars"
             row("org_1", 7, "USD", 1.0, "10.50", "10.50")]
    try:
        load(first, "2025-06-01")
        load(first, "2025-07-01")
        with keyspace.session() as session:
            counting = _CountingSession(session)
            every = queries.q4_monthly_revenue(counting, None)
            assert counting.statements == ["serving_state", "platform_revenue_by_month"]  # one partition read
            assert every == [
                {"month": date(2025, 6, 1), "orgs": 3, "orgs_without_usd": 1, "subtotal_usd": D("400.00"),
                 "credits_usd": D("30.00"), "taxes_usd": D("0.00"), "total_usd": D("400.00")},
                {"month": date(2025, 7, 1), "orgs": 1, "orgs_without_usd": 0, "subtotal_usd": D("10.50"),
                 "credits_usd": D("0.00"), "taxes_usd": D("0.00"), "total_usd": D("10.50")}]
            ars = queries.q4_monthly_revenue(session, "org_2")
            assert [(r["month"], r["currency"], r["fx_rate"], r["total_usd"]) for r in ars] == [
                (date(2025, 6, 1), "ARS", 0.0015, D("300.00"))]
        # July corrected in gold and re-loaded alone: June stays, July follows gold.
        load([*first[:3], row("org_1", 7, "USD", 1.0, "12.00", "12.00"), row("org_2", 7, "USD", 1.0, "1.00", "1.00")],
             "2025-07-01")
        with keyspace.session() as session:
            every = queries.q4_monthly_revenue(session, None, as_of=date(2025, 7, 15))
            assert [(r["month"], r["orgs"], r["total_usd"]) for r in every] == [
                (date(2025, 6, 1), 3, D("400.00")), (date(2025, 7, 1), 2, D("13.00"))]
            june = queries.q4_monthly_revenue(session, None, as_of=date(2025, 6, 30), months=1)
            assert [(r["month"], r["total_usd"]) for r in june] == [(date(2025, 6, 1), D("400.00"))]
    finally:
        with keyspace.session(use_keyspace=False) as session:
            session.execute(f"DROP KEYSPACE IF EXISTS {keyspace.keyspace}")


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


def test_q1_carries_carbon_where_measured_and_null_where_not(spark, settings, cassandra, tmp_path):
    """Carbon (kg CO2e) reaches q1 from the `metrics` map: a measured value as it is (0 included),
    null where no event of the day measured it (v1 events), never 0 for "not measured"."""
    from decimal import Decimal as D

    from cloud_analytics.gold.specs import GOLD_BY_NAME
    from cloud_analytics.serving import queries
    from cloud_analytics.serving.specs import ORG_DAILY_USAGE

    mart = GOLD_BY_NAME["org_daily_usage_by_service"]
    names = [c.name for c in mart.columns]
    lake = LakeResource(root=str(tmp_path), landing="unused")
    keyspace = CassandraResource(hosts=list(cassandra.hosts), port=cassandra.port, keyspace=KEYSPACE + "_carbon")
    resources = {"spark": SparkResource.from_settings(settings), "lake": lake, "cassandra": keyspace}

    def row(service, cost, carbon):
        values = {"org_id": "org_1", "usage_date": date(2025, 7, 1), "service": service, "event_count": 2,
                  "daily_cost_usd": D(cost), "daily_cost_usd_exact": D(cost), "requests": 10.0, "cpu_hours": 1.0,
                  "storage_gb_hours": 0.0, "carbon_kg": carbon, "carbon_measured": carbon is not None,
                  "anomaly_count": 0, "negative_cost_count": 0}
        return tuple(values.get(n) for n in names)

    spark.createDataFrame([row("compute", "1.25", 0.0123), row("database", "2.00", None), row("genai", "0.50", 0.0)],
                          ", ".join(f"`{c.name}` {c.type}" for c in mart.columns)).write.format("delta").mode(
        "overwrite").partitionBy("usage_date").save(table_path(lake.root, "gold", "org_daily_usage_by_service"))
    try:
        with DagsterInstance.ephemeral() as instance:
            result = materialize([build_serving_asset(ORG_DAILY_USAGE)], resources=resources, instance=instance,
                                 partition_key="2025-07-01")
        assert all(c.passed for c in result.get_asset_check_evaluations())
        with keyspace.session() as session:
            rows = queries.q1_daily_cost(session, "org_1")
        assert [(r["service"], r["daily_cost_usd"], r["carbon_kg"]) for r in rows] == [
            ("compute", D("1.25"), 0.0123), ("database", D("2.00"), None), ("genai", D("0.50"), 0.0)]
        assert list(rows[0]) == ["org_id", "usage_date", "service", "daily_cost_usd", "requests", "event_count",
                                 "carbon_kg", "source"]
    finally:
        with keyspace.session(use_keyspace=False) as session:
            session.execute(f"DROP KEYSPACE IF EXISTS {keyspace.keyspace}")
