"""Lambda in motion, end to end on a small isolated lake and the real Cassandra node.

Wave 0 builds the batch layer (CSVs + two event files; the snapshot, stream and refresh jobs,
every layer). Wave 1 lands the first files of a staged future feed: the stream run (bronze +
speed layer) serves provisional speed rows for dates after the batch watermark at once, and
never touches batch-covered dates; the batch refresh then replaces them with equal values.
Wave 2 repeats past the new watermark. Totals are compared against counts made here from the landed JSON lines.
"""

import json
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from cloud_analytics.lib.lake import table_path
from cloud_analytics.bronze.specs import EVENTS_DIR
from cloud_analytics.config import load_settings
from cloud_analytics.definitions import build_definitions
from cloud_analytics.orchestration.jobs import REFRESH_JOB, SNAPSHOT_JOB, STREAM_JOB
from cloud_analytics.orchestration.ranges import Plan
from cloud_analytics.landing.generator import generate
from cloud_analytics.landing.replay import land_file, stage_feed, staged_files
from cloud_analytics.partitions import stream_runs
from cloud_analytics.orchestration.runner import run_job, stream_run_key
from cloud_analytics.pipeline import materialize_all
from cloud_analytics.serving import queries
from cloud_analytics.speed.serving import batch_covered_until, write_speed_rows

KEYSPACE = "cloud_analytics_lambda"
QUIET = dict(log=lambda _m: None)


@pytest.fixture(scope="module")
def lam(tmp_path_factory, cassandra_node, spark):
    """An isolated lake + keyspace (the session lake's figures stay untouched)."""
    root = tmp_path_factory.mktemp("lambda")
    mp = pytest.MonkeyPatch()
    mp.setenv("CLOUD_ANALYTICS_LAKE", str(root / "datalake"))
    mp.delenv("CLOUD_ANALYTICS_LANDING", raising=False)
    mp.setenv("CLOUD_ANALYTICS_CASSANDRA_KEYSPACE", KEYSPACE)
    settings = load_settings(dotenv=Path("/nonexistent"))
    generate(settings.landing, scale=1, seed=42)
    events = settings.landing / EVENTS_DIR
    for extra in sorted(events.glob("*.jsonl"))[2:]:  # keep two files: 720 events over the 60 days
        extra.unlink()
    from dagster import DagsterInstance

    with DagsterInstance.ephemeral() as instance:
        yield settings, instance, build_definitions(settings)
    mp.undo()


def _stream(settings, instance, defs):
    key = stream_run_key()
    instance.add_dynamic_partitions(stream_runs.name, [key])
    return run_job(defs, Plan(STREAM_JOB, partition_key=key), instance, **QUIET)


def _refresh(defs, instance, dates):
    window = (min(dates).isoformat(), max(dates).isoformat())
    return run_job(defs, Plan(REFRESH_JOB, partition_range=window), instance, **QUIET)


def _landed_counts(paths) -> dict[tuple, int]:
    """Events per (org, date) in the landed JSON lines, counted here."""
    counts = defaultdict(int)
    for path in paths:
        for line in Path(path).read_text().splitlines():
            event = json.loads(line)
            counts[(event["org_id"], date.fromisoformat(event["timestamp"][:10]))] += 1
    return counts


def _served(session, table="org_daily_usage"):
    rows = session.execute(f"SELECT org_id, usage_date, service, daily_cost_usd, event_count, source FROM {table}")
    return {(r.org_id, queries.as_date(r.usage_date), r.service): r for r in rows}


@pytest.fixture(scope="module")
def wave0(lam):
    """The batch layer over 2025-07-01..08-31, only the jobs usage serving depends on (each test
    that needs batch rows in Cassandra requests it, whatever ran before)."""
    settings, instance, _defs = lam
    return materialize_all(settings, instance, jobs=(SNAPSHOT_JOB, STREAM_JOB, REFRESH_JOB), **QUIET)


def test_speed_rows_appear_then_batch_replaces_them_without_double_counting(lam, wave0, spark):
    settings, instance, defs = lam
    assert {step.name.split()[1] for step in wave0} == {SNAPSHOT_JOB, STREAM_JOB, REFRESH_JOB}
    cassandra = defs.resources["cassandra"]
    with cassandra.session() as session:
        assert batch_covered_until(session, "org_daily_usage") == date(2025, 8, 31)
        before = _served(session)
    assert {r.source for r in before.values()} == {"batch"}

    staging = settings.lake / "staging"
    stage_feed(settings.landing / EVENTS_DIR, staging, shift_days=60, files=6)  # 08-30 .. 10-30, by time
    wave1 = [land_file(p, settings.landing / EVENTS_DIR) for p in staged_files(staging)[:2]]
    _stream(settings, instance, defs)
    landed = _landed_counts(wave1)
    new_dates = sorted({d for _o, d in landed if d > date(2025, 8, 31)})
    with cassandra.session() as session:
        served = _served(session)
        speed = {k: r for k, r in served.items() if r.source == "speed"}
        # Speed rows exist for exactly the new dates, and batch rows were left alone.
        assert {d for _o, d, _s in speed} == set(new_dates)
        assert all(served[k].daily_cost_usd == r.daily_cost_usd and served[k].source == "batch"
                   for k, r in before.items())
        # The merged view: q1 shows both kinds, each row saying which it is.
        org = next(o for o, _d, _s in speed if any(b[0] == o for b in before))
        rows = queries.q1_daily_cost(session, org, start=date(2025, 7, 1), end=max(new_dates))
        assert {r["source"] for r in rows} == {"batch", "speed"}
        assert queries.newest_date(session, "org_daily_usage") == max(new_dates)

    # The batch refresh replaces every speed row with an equal batch row: one row per key.
    touched = sorted({d for _o, d in landed})
    _refresh(defs, instance, touched)
    with cassandra.session() as session:
        after = _served(session)
        assert batch_covered_until(session, "org_daily_usage") == max(touched)
    assert {after[k].source for k in speed} == {"batch"}
    # Speed rows held every landed event of their dates but those the quality rules quarantine
    # (the quarantine of those dates exists once the batch layer has run).
    quarantined = spark.read.format("delta").load(table_path(str(settings.lake), "quarantine", "usage_events")) \
        .filter(F.col("partition_date").isin(new_dates)).count()
    assert sum(r.event_count for r in speed.values()) == sum(
        n for (_o, d), n in landed.items() if d in new_dates) - quarantined
    assert all((after[k].daily_cost_usd, after[k].event_count) == (r.daily_cost_usd, r.event_count)
               for k, r in speed.items())
    gold = spark.read.format("delta").load(table_path(str(settings.lake), "gold", "org_daily_usage_by_service"))
    assert len(after) == gold.count()
    assert sum(r.daily_cost_usd for r in after.values()) == gold.agg(F.sum("daily_cost_usd")).first()[0]

    # Wave 2: speed rows only after the new watermark.
    wave2 = [land_file(p, settings.landing / EVENTS_DIR) for p in staged_files(staging)[:1]]
    _stream(settings, instance, defs)
    covered = max(touched)
    with cassandra.session() as session:
        served = _served(session)
    speed2 = {k for k, r in served.items() if r.source == "speed"}
    assert speed2 and all(d > covered for _o, d, _s in speed2)
    assert {d for _o, d in _landed_counts(wave2) if d > covered} == {d for _o, d, _s in speed2}


def test_a_late_speed_write_never_overwrites_a_batch_row(lam, wave0, spark):
    from datetime import datetime
    from decimal import Decimal

    _settings, _instance, defs = lam
    cassandra = defs.resources["cassandra"]
    with cassandra.session() as session:
        key, row = next((k, r) for k, r in _served(session).items() if r.source == "batch")
        # A speed write for a batch-covered key, made now (after the batch load): it must lose.
        late = spark.createDataFrame(
            [(*key, Decimal("999999.00"), 1, 1, 1.0, {}, 0, 0, "speed", datetime.now())],
            "org_id string, usage_date date, service string, daily_cost_usd decimal(18,2), requests bigint, "
            "event_count bigint, cost_per_request double, metrics map<string,double>, anomaly_count int, "
            "negative_cost_count int, source string, loaded_at timestamp")
        write_speed_rows(session, "org_daily_usage", late, cassandra.target)
        now = _served(session)[key]
    assert (now.source, now.daily_cost_usd) == ("batch", row.daily_cost_usd)


def test_the_live_view_serves_the_last_hour_per_service_and_the_partials_stay_bounded(lam, spark, capsys):
    from datetime import datetime, timedelta
    from decimal import Decimal

    from cloud_analytics.cli import main
    from cloud_analytics.speed.windows import closes_at

    settings, instance, defs = lam
    staging = settings.lake / "staging"
    if not staged_files(staging):
        stage_feed(settings.landing / EVENTS_DIR, staging, shift_days=60, files=6)
    land_file(staged_files(staging)[0], settings.landing / EVENTS_DIR)
    _stream(settings, instance, defs)

    # Every landed event, counted here from the JSON lines (each event id once).
    events = {}
    for path in (settings.landing / EVENTS_DIR).glob("*.jsonl"):
        for line in path.read_text().splitlines():
            try:
                e = json.loads(line)
                ts = datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00")).replace(tzinfo=None)
            except (ValueError, KeyError, TypeError, AttributeError):
                continue  # a reject: not in bronze
            try:
                cost = Decimal(str(e.get("cost_usd_increment")))
            except ArithmeticError:
                cost = Decimal(0)  # stored with a null cost: counted, costs nothing
            events[e["event_id"]] = (e["org_id"], ts, cost if cost.is_finite() else Decimal(0))
    newest = max(ts for _o, ts, _c in events.values())
    org = max({o for o, ts, _c in events.values() if ts > newest - timedelta(hours=1)},
              key=lambda o: sum(1 for oo, ts, _c in events.values() if oo == o and ts > newest - timedelta(hours=1)))
    with defs.resources["cassandra"].session() as session:
        live = queries.live_usage(session, org)
    # The newest step is the window ending at the first 5-minute boundary after the org's newest
    # event; the view holds the 12 steps of the hour up to it (a step without events has no row).
    until = max(r["window_end"] for r in live)
    org_newest = max(ts for o, ts, _c in events.values() if o == org)
    assert until - timedelta(minutes=5) <= org_newest < until
    steps = [until - timedelta(minutes=5 * k) for k in range(12)]
    assert {r["window_end"] for r in live} <= set(steps)
    for end in steps:
        inside = [c for o, ts, c in events.values() if o == org and end - timedelta(hours=1) <= ts < end]
        rows = [r for r in live if r["window_end"] == end]
        assert sum(r["event_count"] for r in rows) == len(inside), end
        assert float(sum(r["cost_usd"] for r in rows)) == pytest.approx(float(sum(inside)), abs=1e-6), end
    # Closed exactly when no on-time event can reach the window any more.
    state = spark.read.format("delta").load(table_path(str(settings.lake), "speed", "_stream_state"))
    watermark = closes_at(state.agg(F.max("max_event_ts")).first()[0])
    assert live and all(r["is_closed"] == (r["window_end"] <= watermark) for r in live)

    # The partials hold open windows only; everything older was rolled up once.
    partials = spark.read.format("delta").load(table_path(str(settings.lake), "speed", "usage_windows"))
    assert partials.filter(F.col("window_end") <= watermark).count() == 0
    closed = spark.read.format("delta").load(table_path(str(settings.lake), "speed", "closed_windows"))
    assert closed.count() == closed.select("window_start", "org_id", "service").distinct().count() > 0

    # The CLI prints the same view.
    assert main(["query", "live", "--org", org, "--format", "json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert sum(r["event_count"] for r in printed) == sum(r["event_count"] for r in live)
