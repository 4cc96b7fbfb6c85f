"""The speed layer's conservation checks on hand-made frames: each passes when the figures
balance and fails when one row is missing."""

from cloud_analytics.lib.spec import CheckInput
from cloud_analytics.speed.checks import EVERY_ROW_SEEN, WINDOWS_CONSERVE


def _tables(spark, open_counts, closed_counts):
    """Open windows' partials, closed windows' rows, and the state of two checkpoints."""
    state = spark.createDataFrame([("cp_a", 2, 0), ("cp_a", 2, 1), ("cp_old", 9, 0)],
                                  "checkpoint_id string, rows bigint, late_rows bigint")  # cp_a: 3 on time
    closed = spark.createDataFrame([(n,) for n in closed_counts], "event_count bigint")
    tables = {("speed", "_stream_state"): state, ("speed", "closed_windows"): closed}
    written = spark.createDataFrame([(n,) for n in open_counts], "event_count bigint")
    return CheckInput(written, lambda layer, name: tables[(layer, name)], params={"checkpoint_id": "cp_a"})


def test_windows_hold_each_on_time_row_in_twelve_windows_open_or_closed(spark):
    # Three on-time rows: 36 window memberships, some still in open partials, some rolled up.
    ok = WINDOWS_CONSERVE.evaluate(_tables(spark, [6, 6], [12, 12]))
    assert ok.passed and ok.metadata == {"open_window_event_count": 12, "closed_window_event_count": 24,
                                         "on_time_rows": 3}
    lost_in_roll_up = WINDOWS_CONSERVE.evaluate(_tables(spark, [6, 6], [12]))
    assert not lost_in_roll_up.passed and lost_in_roll_up.metadata["closed_window_event_count"] == 12
    counted_twice = WINDOWS_CONSERVE.evaluate(_tables(spark, [6, 6, 12], [12, 12]))
    assert not counted_twice.passed


def test_every_bronze_row_is_seen_once_by_this_checkpoint(spark):
    bronze = spark.range(5)
    state = spark.createDataFrame([("cp_a", 3), ("cp_a", 2), ("cp_old", 5)], "checkpoint_id string, rows bigint")
    tables = {("bronze", "usage_events"): bronze, ("speed", "_stream_state"): state}
    read = lambda layer, name: tables[(layer, name)]  # noqa: E731
    ok = EVERY_ROW_SEEN.evaluate(CheckInput(None, read, params={"checkpoint_id": "cp_a"}))
    assert ok.passed and ok.metadata == {"bronze_rows": 5, "rows_seen_by_speed_layer": 5}
    tables[("bronze", "usage_events")] = spark.range(6)
    assert not EVERY_ROW_SEEN.evaluate(CheckInput(None, read, params={"checkpoint_id": "cp_a"})).passed
