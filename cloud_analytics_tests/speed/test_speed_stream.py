"""The speed layer's stream over a constructed bronze table: watermark across micro-batches,
late rows counted, windows exact (open ones as partials, closed ones rolled up), and a
replayed batch counted once."""

import shutil
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from cloud_analytics.bronze.events import BRONZE_EVENTS_SCHEMA
from cloud_analytics.speed.stream import SpeedPaths, SpeedStream
from cloud_analytics_tests.quality.frames import EVENT

T0 = datetime(2025, 8, 1, 10, 0)


def _event(n: int, ts: datetime, cost: float, org="org_a", service="compute"):
    return {**EVENT, "event_id": f"evt_{n}", "event_ts": ts, "event_date": ts.date(), "org_id": org,
            "service": service, "metric": "requests", "value": 1.0, "cost_usd_increment": cost}


def _append(spark, path, events):
    columns = [c.split()[0] for c in BRONZE_EVENTS_SCHEMA.split(", ")]
    rows = [tuple(e[c] for c in columns) for e in events]
    spark.createDataFrame(rows, BRONZE_EVENTS_SCHEMA).write.format("delta").mode("append") \
        .partitionBy("event_date").save(path)


@pytest.fixture
def paths(tmp_path) -> SpeedPaths:
    t = lambda *p: str(tmp_path.joinpath(*p))  # noqa: E731
    return SpeedPaths(bronze=t("bronze", "usage_events"), windows=t("speed", "usage_windows"),
                      closed=t("speed", "closed_windows"), late=t("speed", "late_rows"), alerts=t("speed", "usage_alerts"),
                      state=t("speed", "_stream_state"), baselines=t("gold", "cost_baselines"),
                      orgs_history=t("silver", "customers_orgs_history"),
                      resources_history=t("silver", "resources_history"), checkpoint=t("_checkpoints", "speed"))


def _run(spark, paths, run):
    return SpeedStream(spark, paths, run, log=lambda _m: None).run()


def _windows(spark, paths):
    """Every window's total: the open windows' partials and the closed windows' rows together."""
    columns = ["window_start", "window_end", "org_id", "event_count", "cost_usd"]
    df = spark.read.format("delta").load(paths.windows).select(*columns).unionByName(
        spark.read.format("delta").load(paths.closed).select(*columns))
    return {(r.window_start, r.org_id): r for r in df.groupBy("window_start", "org_id").agg(
        F.sum("event_count").alias("events"), F.sum("cost_usd").alias("cost")).collect()}


@pytest.mark.both_modes
def test_late_rows_across_batches_are_counted_and_windows_stay_exact(spark, paths):
    # Batch 1: three events up to 11:00. No watermark yet: nothing is late.
    _append(spark, paths.bronze, [_event(1, T0, 1.0), _event(2, T0 + timedelta(minutes=30), 2.0),
                                  _event(3, T0 + timedelta(hours=1), 4.0)])
    first = _run(spark, paths, "run_1")
    assert (first.rows, first.late_rows, first.batches) == (3, 0, 1)
    # Batch 2: watermark = 11:00 - 10 min = 10:50. 10:40 and yesterday are late; 10:50 and 11:30 are not.
    _append(spark, paths.bronze, [_event(4, T0 + timedelta(minutes=40), 8.0),
                                  _event(5, T0 - timedelta(days=1), 16.0, org="org_b"),
                                  _event(6, T0 + timedelta(minutes=50), 32.0),
                                  _event(7, T0 + timedelta(minutes=90), 64.0)])
    second = _run(spark, paths, "run_2")
    assert (second.rows, second.late_rows) == (4, 2)
    late = spark.read.format("delta").load(paths.late).collect()
    assert sorted((r.org_id, r.late_rows, r.late_cost_usd) for r in late) == [
        ("org_a", 1, Decimal("8.000000")), ("org_b", 1, Decimal("16.000000"))]
    assert {r.watermark for r in late} == {T0 + timedelta(minutes=50)}

    windows = _windows(spark, paths)
    # The 10:00-11:00 window: events at 10:00, 10:30 (batch 1) and 10:50 (batch 2, on time); 10:40 is late.
    ten = windows[(T0, "org_a")]
    assert (ten.events, ten.cost) == (3, Decimal("35.000000"))
    # The 10:45-11:45 window: 11:00 (batch 1), 10:50 and 11:30 (batch 2).
    assert windows[(T0 + timedelta(minutes=45), "org_a")].cost == Decimal("100.000000")
    assert not any(org == "org_b" for _, org in windows)  # the only org_b event was late
    # Every on-time row lies in exactly 12 windows.
    assert sum(w.events for w in windows.values()) == 12 * (7 - 2)

    state = spark.read.format("delta").load(paths.state).orderBy("batch_id").collect()
    assert [r.rows for r in state] == [3, 4] and state[-1].max_event_ts == T0 + timedelta(minutes=90)

    # Rolled up: windows ending by 11:20 (newest event 11:30 minus the 10-minute delay) have one
    # final row each and no partials left; the partials hold only open windows.
    closes = T0 + timedelta(minutes=80)
    partials = spark.read.format("delta").load(paths.windows).collect()
    closed = spark.read.format("delta").load(paths.closed).collect()
    assert partials and all(r.window_end > closes for r in partials)
    assert closed and all(r.window_end <= closes for r in closed)
    assert len({(r.window_start, r.org_id, r.service) for r in closed}) == len(closed)
    # The 10:00-11:00 window closed with its three on-time events from both batches in one row.
    assert [(r.event_count, r.partials) for r in closed if r.window_start == T0] == [(3, 2)]
    assert {r.phase_seconds.keys() >= {"read", "late", "windows", "live", "alerts"} for r in state} == {True}

    # Nothing new: an idle trigger writes nothing.
    assert _run(spark, paths, "run_3").batches == 0
    assert len(spark.read.format("delta").load(paths.state).collect()) == 2


def test_a_crash_between_rolling_up_and_deleting_the_partials_rolls_up_once(spark, paths, monkeypatch):
    # In-process only: the failure is injected into this process's SparkSession.
    from pyspark.sql import SparkSession

    _append(spark, paths.bronze, [_event(1, T0, 1.0), _event(2, T0 + timedelta(minutes=5), 2.0)])
    _run(spark, paths, "run_1")
    expected = {k: (v.events, v.cost) for k, v in _windows(spark, paths).items()}
    sql = SparkSession.sql

    def crash_on_delete(self, query, *args, **kwargs):
        if query.startswith("DELETE FROM delta."):
            raise RuntimeError("killed before the partials were deleted")
        return sql(self, query, *args, **kwargs)

    _append(spark, paths.bronze, [_event(3, T0 + timedelta(hours=2), 4.0)])  # closes the first windows
    monkeypatch.setattr(SparkSession, "sql", crash_on_delete)
    with pytest.raises(Exception, match="killed before the partials"):
        _run(spark, paths, "run_2")
    closed_once = spark.read.format("delta").load(paths.closed).count()
    assert closed_once > 0  # the closed rows were appended, their partials are still there
    monkeypatch.setattr(SparkSession, "sql", sql)
    assert _run(spark, paths, "run_3").batches == 1  # the batch runs again
    closed = spark.read.format("delta").load(paths.closed)
    assert closed.count() == closed_once == closed.select("window_start", "org_id", "service").distinct().count()
    after = {k: (v.events, v.cost) for k, v in _windows(spark, paths).items()}
    assert {k: v for k, v in after.items() if k in expected} == expected  # nothing counted twice
    assert sum(events for events, _cost in after.values()) == 12 * 3


@pytest.mark.both_modes
def test_a_batch_replayed_after_a_crash_is_counted_once(spark, paths):
    # The event two hours later closes the windows of the first two: the replay must not roll them up twice.
    _append(spark, paths.bronze, [_event(1, T0, 1.0), _event(2, T0 + timedelta(minutes=5), 2.0),
                                  _event(3, T0 + timedelta(hours=2), 4.0)])
    _run(spark, paths, "run_1")
    assert spark.read.format("delta").load(paths.closed).count() > 0
    before = {k: (v.events, v.cost) for k, v in _windows(spark, paths).items()}
    # Simulate a crash after the batch's writes but before the checkpoint commit: delete the
    # commit marker, so the stream runs batch 0 again.
    commits = Path(paths.checkpoint) / "commits"
    shutil.rmtree(commits)
    replay = _run(spark, paths, "run_2")
    assert replay.batches == 1  # the batch really ran again
    after = {k: (v.events, v.cost) for k, v in _windows(spark, paths).items()}
    assert after == before
    assert spark.read.format("delta").load(paths.closed).count() == len(
        spark.read.format("delta").load(paths.closed).select("window_start", "org_id", "service").distinct().collect())
    assert spark.read.format("delta").load(paths.state).count() == 1
