"""The cost anomaly mart on two hand-built daily series (2025-08-01 … 08-20).

org_a / compute: 10, 11, 9, 10, 12, 8, 10, 11, 9, 10, 12, 8, 10, 11, **100** (08-15), 9, 10, 12, 8, 10
  mean 14.5, sample stddev 20.1638, median (baseline) 10, MAD 1 (the 10th of the sorted |x − 10|),
  p99 = 100 (the 20th value of 20).
  08-15: z = (100 − 14.5) / 20.1638 = 4.2403 > 3 ✓; robust 0.6745 × 90 / 1 = 60.705 > 3.5 ✓;
         percentile 100 > 1.5 × 100? ✗ (ratio 1.0) → 2 votes → anomaly.
  08-05 (12): z = −0.1240, robust 1.349, ratio 0.12 → nothing fires.
org_b / storage: 20, 21, 19, 22, 18 repeated: mean 20, stddev 1.4510, median 20, MAD 1 → max
  robust 0.6745 × 2 = 1.349, max z 1.378: nothing fires.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from pyspark.sql import functions as F

from cloud_analytics.gold.anomalies import cost_anomaly_mart, daily_costs
from cloud_analytics.gold.specs import GOLD_BY_NAME
from cloud_analytics_tests.gold.frames import ev, silver

A = [10, 11, 9, 10, 12, 8, 10, 11, 9, 10, 12, 8, 10, 11, 100, 9, 10, 12, 8, 10]
B = [20, 21, 19, 22, 18] * 4
DAY = [date(2025, 8, 1) + timedelta(days=i) for i in range(20)]
SPIKE = date(2025, 8, 15)


@pytest.fixture(scope="module")
def history(spark):
    rows = [("org_a", d, "compute", Decimal(x)) for d, x in zip(DAY, A)]
    rows += [("org_b", d, "storage", Decimal(x)) for d, x in zip(DAY, B)]
    return spark.createDataFrame(
        rows, "org_id string, date date, service string, daily_cost_usd_exact decimal(18,6)").cache()


@pytest.fixture(scope="module")
def full(history):
    out = cost_anomaly_mart(history)
    assert out.columns == GOLD_BY_NAME["cost_anomaly_mart"].column_names
    return {(r.org_id, r.date, r.service): r for r in out.collect()}


def test_spike_scores_baseline_and_methods(full):
    r = full[("org_a", SPIKE, "compute")]
    assert r.daily_cost_usd == Decimal("100.00")
    assert r.baseline_cost_usd == 10.0 and r.baseline_days == 20
    assert r.baseline_mean_usd == pytest.approx(14.5)
    assert r.baseline_stddev_usd == pytest.approx(20.1638, abs=1e-4)
    assert r.zscore == pytest.approx(4.2403, abs=1e-4)
    assert r.robust_z == pytest.approx(60.705)
    assert r.baseline_p99_usd == 100.0 and r.percentile_ratio == pytest.approx(1.0)
    assert r.methods_fired == ["zscore", "robust_z"]
    assert (r.zscore_fired, r.robust_z_fired, r.percentile_fired) == (True, True, False)
    assert (r.anomaly_votes, r.is_anomaly) == (2, True)


def test_normal_days_fire_nothing(full):
    r = full[("org_a", date(2025, 8, 5), "compute")]
    assert r.zscore == pytest.approx(-0.1240, abs=1e-4) and r.robust_z == pytest.approx(1.349)
    assert r.percentile_ratio == pytest.approx(0.12)
    assert (r.methods_fired, r.anomaly_votes, r.is_anomaly) == ([], 0, False)
    anomalies = sorted(k for k, row in full.items() if row.is_anomaly)
    assert anomalies == [("org_a", SPIKE, "compute")]
    assert len(full) == 40


def test_flags_agree_with_scores(full):
    for r in full.values():
        assert r.zscore_fired == (r.zscore is not None and abs(r.zscore) > 3.0)
        assert r.robust_z_fired == (r.robust_z is not None and abs(r.robust_z) > 3.5)
        assert r.percentile_fired == (r.percentile_ratio is not None and r.percentile_ratio > 1.5)


def test_output_window_does_not_change_statistics(history, full):
    one_day = cost_anomaly_mart(history, (SPIKE, SPIKE)).collect()
    assert {(r.org_id, r.date) for r in one_day} == {("org_a", SPIKE), ("org_b", SPIKE)}
    for r in one_day:
        assert r.asDict() == full[(r.org_id, r.date, r.service)].asDict()
    three = cost_anomaly_mart(history, (date(2025, 8, 14), date(2025, 8, 16)))
    assert three.filter("is_anomaly").select("org_id", "date").collect() == [("org_a", SPIKE)]
    assert three.count() == 6


def test_statistics_come_from_history_not_from_the_rows(history):
    # A history of only the window's day would have no spread: the spike would not stand out.
    only_spike = history.filter(F.col("date") == SPIKE)
    assert cost_anomaly_mart(only_spike).filter("is_anomaly").count() == 0


def test_daily_costs_from_events(spark):
    events = silver(spark, "usage_events",
                    ev("x1", datetime(2025, 8, 1, 1, 0), 1.10), ev("x2", datetime(2025, 8, 1, 23, 0), -0.35),
                    ev("x3", datetime(2025, 8, 2, 0, 0), 4.00))
    got = sorted(daily_costs(events).collect())
    assert got == [("org_a", date(2025, 8, 1), "compute", Decimal("0.750000")),
                   ("org_a", date(2025, 8, 2), "compute", Decimal("4.000000"))]
