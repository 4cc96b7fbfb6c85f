"""The query functions ``test_serving_assets.py`` leaves out (cost anomalies, customer health, the
live view, the alert queries, ``newest_date``, ``NoServingData``), against the real test node.

The expected figures are computed here, independently: from the gold Delta tables (batch-fed
tables) and the lake's speed tables (the live view), read with Spark; or, for the alert queries,
from rows written by hand into a throwaway keyspace, since the session's one stream run has no
cost baselines to alert against (it runs before gold; see ``test_the_alert_queries_serve_the_lake_alerts``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from cloud_analytics.lib.lake import table_path
from cloud_analytics.serving import queries
from cloud_analytics.serving.queries import NoServingData

PROBE_KEYSPACE = "cloud_analytics_queries_probe"
CLI = str(Path(sys.executable).with_name("cloud-analytics"))


def _read(spark, settings, layer, name):
    return spark.read.format("delta").load(table_path(str(settings.lake), layer, name))


# -- batch-fed tables against gold ------------------------------------------------------------------


def test_newest_date_is_the_newest_date_gold_holds(serving_run, cassandra, spark, settings):
    def newest(layer, mart, column, where=None):
        df = _read(spark, settings, layer, mart)
        return (df.filter(where) if where is not None else df).agg(F.max(column)).first()[0]

    expected = {
        "org_daily_usage": newest("gold", "org_daily_usage_by_service", "usage_date"),
        "genai_by_org_day": newest("gold", "genai_tokens_by_org_date", "date"),
        "cost_anomalies_by_org": newest("gold", "cost_anomaly_mart", "date"),
        "platform_cost_by_day": newest("gold", "cost_anomaly_mart", "date"),
        "customer_health_by_org": newest("gold", "customer_360", "as_of_date"),
        "platform_revenue_by_month": newest("gold", "revenue_by_org_month", "month"),
        # Days on which a ticket was opened (the mart also has days with resolutions only).
        "platform_tickets_by_day": newest("gold", "tickets_by_org_date", "date", F.col("opened") > 0),
    }
    with cassandra.session() as session:
        got = {table: queries.newest_date(session, table) for table in expected}
    assert got == expected


@pytest.fixture(scope="module")
def anomalous_org(serving_run, spark, settings):
    """The org with the most anomalous days over the 30 days to the newest scored day."""
    mart = _read(spark, settings, "gold", "cost_anomaly_mart")
    end = mart.agg(F.max("date")).first()[0]
    return mart.filter(F.col("is_anomaly") & (F.col("date") > end - timedelta(days=30))).groupBy("org_id").count() \
        .orderBy(F.desc("count"), "org_id").first()["org_id"]


def test_cost_anomalies_are_the_flagged_days_of_gold(serving_run, cassandra, spark, settings, anomalous_org):
    mart = _read(spark, settings, "gold", "cost_anomaly_mart").filter(F.col("org_id") == anomalous_org)
    end = _read(spark, settings, "gold", "cost_anomaly_mart").agg(F.max("date")).first()[0]

    def expected(first, last):
        rows = mart.filter(F.col("is_anomaly") & F.col("date").between(first, last)).collect()
        return sorted(((r.date, r.service, r.daily_cost_usd, sorted(r.methods_fired)), r.baseline_cost_usd)
                      for r in rows)

    def got(rows):
        return [((r["anomaly_date"], r["service"], r["daily_cost_usd"], sorted(r["methods_fired"])), r["baseline_usd"])
                for r in rows]

    def same(rows, first, last):
        want = expected(first, last)
        assert [k for k, _ in got(rows)] == [k for k, _ in want]
        assert [b for _, b in got(rows)] == pytest.approx([b for _, b in want])

    earlier = end - timedelta(days=20)
    with cassandra.session() as session:
        default = queries.cost_anomalies(session, anomalous_org)
        ten_days = queries.cost_anomalies(session, anomalous_org, as_of=earlier, days=10)
        nobody = queries.cost_anomalies(session, "org_not_served", as_of=end)
    assert default, "the chosen org has flagged days in the default window"
    # Oldest first, by day then service; money exact (decimal), the baseline as gold computed it.
    same(default, end - timedelta(days=29), end)
    same(ten_days, earlier - timedelta(days=9), earlier)
    assert all(r["is_anomaly"] for r in default) and all(isinstance(r["daily_cost_usd"], Decimal) for r in default)
    assert nobody == []


def test_customer_health_is_each_orgs_newest_assessment_in_gold(serving_run, cassandra, spark, settings):
    health = _read(spark, settings, "gold", "customer_360")
    newest = health.groupBy("org_id").agg(F.max("as_of_date").alias("as_of_date"))
    parts = ("usage", "support", "csat", "nps", "billing", "engagement")
    expected = {r.org_id: (r.as_of_date, r.health_score, r.risk_band, r.active_resources,
                           {p: r[f"{p}_component"] for p in parts if r[f"{p}_component"] is not None})
                for r in health.join(newest, ["org_id", "as_of_date"]).collect()}
    assert len(expected) > 10
    with cassandra.session() as session:
        got = {}
        for org in expected:
            [row] = queries.customer_health(session, org)  # one row: the latest assessment
            got[org] = (row["as_of_date"], row["health_score"], row["risk_band"], row["active_resources"],
                        dict(row["components"] or {}))
        assert queries.customer_health(session, "org_not_served") == []
    assert got.keys() == expected.keys()
    for org, (as_of, score, band, active, components) in expected.items():
        assert got[org][0] == as_of and got[org][2] == band and got[org][3] == active, org
        assert got[org][1] == pytest.approx(score) and got[org][4] == pytest.approx(components), org


# -- the live view against the lake's speed tables -------------------------------------------------


def _epoch(value: datetime) -> int:
    """The driver returns naive UTC datetimes."""
    return int(value.replace(tzinfo=timezone.utc).timestamp())


@pytest.fixture(scope="module")
def windows(bronze_run, spark, settings):
    """Every window total of the lake's speed layer: the closed windows' final rows plus the sums
    of the open windows' partials, per (org, window end, service), with times as epoch seconds."""
    closed = _read(spark, settings, "speed", "closed_windows").withColumn("is_closed", F.lit(True))
    partials = _read(spark, settings, "speed", "usage_windows").withColumn("is_closed", F.lit(False))
    cols = ("org_id", "service", "window_start", "window_end", "cost_usd", "requests", "event_count", "is_closed")
    both = closed.select(*cols).unionByName(partials.select(*cols))
    totals = both.groupBy("org_id", F.unix_timestamp("window_end").alias("end"), "service").agg(
        F.min(F.unix_timestamp("window_start")).alias("start"), F.sum("cost_usd").alias("cost"),
        F.sum("requests").alias("requests"), F.sum("event_count").alias("events"),
        F.max(F.col("is_closed").cast("int")).alias("closed")).collect()
    return {(r.org_id, r.end, r.service): (r.start, r.cost, r.requests, r.events, bool(r.closed)) for r in totals}


def test_live_usage_is_the_orgs_last_hour_of_speed_windows(serving_run, cassandra, windows):
    # The org active last (its newest window ends last); the view is within the live table's two days.
    newest = {}
    for org, end, _service in windows:
        newest[org] = max(newest.get(org, 0), end)
    org = max(newest, key=lambda o: (newest[o], o))
    # An event at t lies in the windows ending up to 55 minutes after its 5-minute step: the trailing
    # hour ends 55 minutes before the org's newest window end.
    until = newest[org] - 55 * 60

    def expected(last, minutes):
        return {(s, e): (start, cost, events, closed) for (o, e, s), (start, cost, _r, events, closed) in windows.items()
                if o == org and last - minutes * 60 < e <= last}

    def got(rows):
        return {(r["service"], _epoch(r["window_end"])): (_epoch(r["window_start"]), r["cost_usd"], r["event_count"],
                                                          r["is_closed"]) for r in rows}

    with cassandra.session() as session:
        live = queries.live_usage(session, org)
        # Up to the org's newest window end, three hours back: every window holding its newest event.
        wider = queries.live_usage(session, org, minutes=180,
                                   until=datetime.fromtimestamp(newest[org], timezone.utc).replace(tzinfo=None))
        nobody = queries.live_usage(session, "org_not_served")
    assert live and got(live) == expected(until, 60)
    assert {_epoch(r["window_end"]) for r in live} <= {until - 300 * k for k in range(12)}  # 12 five-minute steps
    assert [(r["service"], r["window_end"]) for r in live] == sorted((r["service"], r["window_end"]) for r in live)
    requests = {(o, e, s): r for (o, e, s), (_st, _c, r, _ev, _cl) in windows.items()}
    assert all(r["requests"] == pytest.approx(requests[(org, _epoch(r["window_end"]), r["service"])]) for r in live)
    assert got(wider) == expected(newest[org], 180) and len(wider) > len(live)
    assert nobody == []


# -- the alert queries -----------------------------------------------------------------------------


def test_the_alert_queries_serve_the_lake_alerts(serving_run, cassandra, spark, settings):
    """usage_alerts and alert_counts against the lake's speed/usage_alerts. In the session's data that
    table is empty (its one stream run precedes gold/cost_baselines, so nothing can be scored), and
    both queries must then answer with nothing, for every org; should alerts appear, the queries
    must serve exactly them."""
    alerts = _read(spark, settings, "speed", "usage_alerts").select("org_id", "alert_date", "alert_id").collect()
    per_org = {}
    for r in alerts:
        per_org.setdefault(r.org_id, []).append(r)
    with cassandra.session() as session:
        counts = queries.alert_counts(session)
        served = session.execute("SELECT count(*) FROM usage_alerts_by_org").one()[0]
        some_orgs = [r["org_id"] for r in queries.org_ranking(session, top=3)]
        by_org = {org: queries.usage_alerts(session, org, days=100_000, limit=100_000)
                  for org in {*per_org, *some_orgs}}
    assert served == len(alerts)
    if not alerts:
        assert counts == [] and all(rows == [] for rows in by_org.values())
        return
    end = max(r.alert_date for r in alerts)
    expected = {}
    for r in alerts:
        if r.alert_date > end - timedelta(days=7):
            day = expected.setdefault(r.alert_date, [0, set()])
            day[0] += 1
            day[1].add(r.org_id)
    assert [(c["alert_date"], c["alerts"], c["orgs"]) for c in counts] == [
        (d, n, len(orgs)) for d, (n, orgs) in sorted(expected.items())]
    for org, rows in per_org.items():
        assert len(by_org[org]) == len(rows), org


@pytest.fixture(scope="module")
def probe(cassandra, settings):
    """A keyspace of its own with the serving schema and nothing loaded (the session's tables stay
    untouched); dropped at the end."""
    from cloud_analytics.resources.cassandra import CassandraResource
    from cloud_analytics.serving.schema import create_schema

    probe_settings = replace(settings, cassandra_keyspace=PROBE_KEYSPACE)
    resource = CassandraResource.from_settings(probe_settings)
    with resource.session(use_keyspace=False) as session:  # a leftover of an interrupted run goes first
        session.execute(f"DROP KEYSPACE IF EXISTS {PROBE_KEYSPACE}")
    with resource.session() as session:
        create_schema(session)
    yield resource
    with resource.session(use_keyspace=False) as session:
        session.execute(f"DROP KEYSPACE IF EXISTS {PROBE_KEYSPACE}")


# (org, alert day, event time of day, alert id): written by hand, newest of org_a on 2025-08-31.
ALERTS = [
    ("org_a", date(2025, 8, 20), "08:00", "cost:a1"), ("org_a", date(2025, 8, 20), "09:00", "cost:a2"),
    ("org_a", date(2025, 8, 25), "10:00", "cost:a3"),
    ("org_a", date(2025, 8, 31), "01:00", "cost:a4"), ("org_a", date(2025, 8, 31), "02:00", "cost:a5"),
    ("org_a", date(2025, 8, 31), "03:00", "cost:a6"),
    ("org_b", date(2025, 8, 25), "11:00", "cost:b1"), ("org_b", date(2025, 8, 29), "12:00", "cost:b2"),
]


def _at(day: date, clock: str) -> datetime:
    return datetime.combine(day, datetime.strptime(clock, "%H:%M").time())


def test_usage_alerts_and_alert_counts_on_alerts_written_by_hand(probe):
    with probe.session() as session:
        assert queries.alert_counts(session) == [] and queries.usage_alerts(session, "org_a") == []
        insert = session.prepare(
            "INSERT INTO usage_alerts_by_org (org_id, alert_date, event_ts, alert_id, service, resource_id, cost_usd, "
            "baseline_median_usd, robust_z, reason, context, stream_run, loaded_at) "
            "VALUES (?, ?, ?, ?, 'compute', 'res_1', 10.0, 1.0, 9.5, 'cost above baseline', {}, 'probe', ?)")
        for org, day, clock, alert_id in ALERTS:
            session.execute(insert, (org, day, _at(day, clock), alert_id, datetime.now(timezone.utc)))

        def ids(rows):
            return [r["event_ts"].strftime("%d %H:%M") for r in rows]

        # Default: the newest 5 alerts, within the 7 days to the newest one (08-25..08-31), newest first.
        assert ids(queries.usage_alerts(session, "org_a")) == ["31 03:00", "31 02:00", "31 01:00", "25 10:00"]
        assert ids(queries.usage_alerts(session, "org_a", days=30, limit=10)) == [
            "31 03:00", "31 02:00", "31 01:00", "25 10:00", "20 09:00", "20 08:00"]
        assert ids(queries.usage_alerts(session, "org_a", days=1, limit=2)) == ["31 03:00", "31 02:00"]
        assert ids(queries.usage_alerts(session, "org_a", as_of=date(2025, 8, 25), days=1, limit=10)) == ["25 10:00"]
        assert ids(queries.usage_alerts(session, "org_b")) == ["29 12:00", "25 11:00"]
        assert queries.usage_alerts(session, "org_c") == []
        assert set(queries.usage_alerts(session, "org_b")[0]) == {
            "alert_date", "event_ts", "service", "resource_id", "cost_usd", "baseline_median_usd", "robust_z",
            "reason", "context"}

        # Across orgs, per day, the 7 days to the newest alert (08-25..08-31): alerts and orgs alerted.
        assert [(r["alert_date"].day, r["alerts"], r["orgs"]) for r in queries.alert_counts(session)] == [
            (25, 2, 2), (29, 1, 1), (31, 3, 1)]
        assert [(r["alert_date"].day, r["alerts"], r["orgs"]) for r in queries.alert_counts(
            session, as_of=date(2025, 8, 25), days=10)] == [(20, 2, 1), (25, 2, 2)]
        assert queries.alert_counts(session, as_of=date(2025, 7, 1)) == []


# -- a keyspace with nothing loaded ----------------------------------------------------------------


def test_an_empty_table_is_no_serving_data_and_newest_date_follows_the_speed_layer(probe):
    with probe.session() as session:
        for table in ("org_daily_usage", "genai_by_org_day", "cost_anomalies_by_org", "platform_cost_by_day",
                      "platform_tickets_by_day", "platform_revenue_by_month"):
            with pytest.raises(NoServingData, match=rf"serving table {table} holds no data yet: run the pipeline"):
                queries.newest_date(session, table)
        # Every query whose window defaults to the newest date says so instead of answering nothing.
        for call in (lambda: queries.q1_daily_cost(session, "org_a"), lambda: queries.q2_top_services(session, "org_a"),
                     lambda: queries.q3_critical_tickets(session), lambda: queries.q4_monthly_revenue(session),
                     lambda: queries.q5_genai(session, "org_a"), lambda: queries.cost_anomalies(session, "org_a"),
                     lambda: queries.platform_cost(session)):
            with pytest.raises(NoServingData):
                call()
        # Those with no default date (or an explicit one) answer with nothing.
        assert queries.q1_daily_cost(session, "org_a", as_of=date(2025, 8, 31)) == []
        assert queries.customer_health(session, "org_a") == [] and queries.org_ranking(session) == []
        assert queries.live_usage(session, "org_a") == []

        state = session.prepare("UPDATE serving_state SET max_date = ?, speed_max_date = ? WHERE table_name = ?")
        session.execute(state, (date(2025, 8, 31), None, "org_daily_usage"))
        session.execute(state, (date(2025, 8, 31), date(2025, 9, 2), "genai_by_org_day"))
        session.execute(state, (None, date(2025, 9, 1), "cost_anomalies_by_org"))
        assert queries.newest_date(session, "org_daily_usage") == date(2025, 8, 31)  # batch only
        assert queries.newest_date(session, "genai_by_org_day") == date(2025, 9, 2)  # the speed layer is newer
        assert queries.newest_date(session, "cost_anomalies_by_org") == date(2025, 9, 1)  # speed only


def test_the_cli_says_an_empty_keyspace_holds_no_data_in_one_line(probe):
    env = {**os.environ, "CLOUD_ANALYTICS_CASSANDRA_KEYSPACE": PROBE_KEYSPACE}
    done = subprocess.run([CLI, "query", "platform"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == ("error: serving table platform_cost_by_day holds no data yet: run the pipeline "
                           "(make run) first\n")
