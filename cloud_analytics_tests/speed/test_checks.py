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


def test_windows_leave_out_the_rows_ev05_quarantined(spark):
    from cloud_analytics.speed.checks import WINDOWS_CONSERVE as check

    state = spark.createDataFrame([("cp_a", 4, 1, 1)],
                                  "checkpoint_id string, rows bigint, late_rows bigint, quarantined_rows bigint")
    closed = spark.createDataFrame([(12,)], "event_count bigint")
    tables = {("speed", "_stream_state"): state, ("speed", "closed_windows"): closed}
    given = CheckInput(spark.createDataFrame([(12,)], "event_count bigint"), lambda layer, name: tables[(layer, name)],
                       params={"checkpoint_id": "cp_a"})
    outcome = check.evaluate(given)  # 4 rows − 1 late − 1 below the minimum cost = 2 on time = 24 memberships
    assert outcome.passed and outcome.metadata["on_time_rows"] == 2


class _Served:
    """The two calls the check makes on a driver session, over rows held here (unit test only)."""

    def __init__(self, rows):
        self.rows = rows  # (org_id, alert_date, alert_id) stored in Cassandra

    def prepare(self, statement):
        assert statement.startswith("SELECT alert_id FROM usage_alerts_by_org WHERE org_id = ?")
        return statement

    def execute(self, _statement, params):
        from types import SimpleNamespace

        org, since = params
        return [SimpleNamespace(alert_id=a) for o, d, a in self.rows if o == org and d >= since]


def test_every_alert_of_the_run_must_be_served(spark):
    from datetime import date, datetime, timezone

    from cloud_analytics.speed.checks import ALERTS_SERVED

    d1, d2 = date(2025, 8, 30), date(2025, 8, 31)
    lake = spark.createDataFrame([("run_b", "org_a", d1, "cost:e1"), ("run_b", "org_a", d2, "cost:e2"),
                                  ("run_a", "org_b", d1, "cost:e9")],
                                 "stream_run string, org_id string, alert_date date, alert_id string")
    run = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    lake = lake.replace("run_b", run, subset=["stream_run"])
    params = lambda rows, stream_run=run: {"stream_run": stream_run, "cql": _Served(rows)}  # noqa: E731
    both = ALERTS_SERVED.evaluate(CheckInput(lake, None, params=params([("org_a", d1, "cost:e1"), ("org_a", d2, "cost:e2")])))
    assert both.passed and both.metadata == {"run_alerts": 2, "missing_in_cassandra": 0}
    one_lost = ALERTS_SERVED.evaluate(CheckInput(lake, None, params=params([("org_a", d2, "cost:e2")])))
    assert not one_lost.passed and one_lost.metadata["missing_in_cassandra"] == 1
    # A run older than the table's 90-day TTL: its alerts have expired there, nothing to compare.
    expired = ALERTS_SERVED.evaluate(CheckInput(lake, None, params=params([], stream_run="20250101T000000Z")))
    assert expired.passed and "not_checked" in expired.metadata
