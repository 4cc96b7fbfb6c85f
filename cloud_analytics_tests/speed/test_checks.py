"""The speed layer's conservation checks on hand-made frames: each passes when the figures
balance and fails when one row is missing."""

from cloud_analytics.lib.spec import CheckInput
from cloud_analytics.speed.checks import EVERY_ROW_SEEN, WINDOWS_CONSERVE


def _windows(spark, counts):
    return spark.createDataFrame([("run_1", n) for n in counts] + [("run_0", 99)],
                                 "stream_run string, event_count bigint")


def test_windows_hold_each_on_time_row_in_twelve_windows(spark):
    written = _windows(spark, [12, 12, 6, 6])  # three on-time rows, two of them split over two partials
    ok = WINDOWS_CONSERVE.evaluate(CheckInput(written, read=None, params={"stream_run": "run_1", "on_time_rows": 3}))
    assert ok.passed and ok.metadata == {"window_event_count": 36, "on_time_rows": 3}
    short = WINDOWS_CONSERVE.evaluate(CheckInput(_windows(spark, [12, 12, 6]), read=None,
                                                 params={"stream_run": "run_1", "on_time_rows": 3}))
    assert not short.passed and short.metadata["window_event_count"] == 30


def test_every_bronze_row_is_seen_once_by_this_checkpoint(spark):
    bronze = spark.range(5)
    state = spark.createDataFrame([("cp_a", 3), ("cp_a", 2), ("cp_old", 5)], "checkpoint_id string, rows bigint")
    tables = {("bronze", "usage_events"): bronze, ("speed", "_stream_state"): state}
    read = lambda layer, name: tables[(layer, name)]  # noqa: E731
    ok = EVERY_ROW_SEEN.evaluate(CheckInput(None, read, params={"checkpoint_id": "cp_a"}))
    assert ok.passed and ok.metadata == {"bronze_rows": 5, "rows_seen_by_speed_layer": 5}
    tables[("bronze", "usage_events")] = spark.range(6)
    assert not EVERY_ROW_SEEN.evaluate(CheckInput(None, read, params={"checkpoint_id": "cp_a"})).passed
