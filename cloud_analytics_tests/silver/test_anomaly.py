"""The three outlier methods on constructed series whose statistics are worked out by hand.

Group (compute, requests): 198 "normal" costs 1.0, 1.1, …, 1.9 (cycling), plus 2.5, 3.5, 50, 60
(202 values): mean 1.99, sample stddev 5.35, median 1.5, MAD 0.3, p99 (the 200th value) 3.5.
  - z-score > 3 needs x > 1.99 + 3 × 5.35 ≈ 18.0            → 50, 60
  - robust |0.6745 (x − 1.5) / 0.3| > 3.5 needs x > 3.057   → 3.5 (4.50), 50, 60
  - percentile x > 3.5 × 1.5 = 5.25                         → 50, 60
Group (storage, cpu_hours): 150 × 5.0, 50 × 6.0, 1 × 30.0 (201 values): median 5.0 and MAD 0
(over half the values equal the median), so the robust score falls back to
(x − 5) / (1.253314 × mean|x − 5| = 0.3731): 6.0 → 2.14 (normal), 30 → 53.5 (outlier).
mean 5.37, stddev 1.80: z(30) = 13.7; p99 (the 199th value) 6.0 → cut 9.0.
"""

from __future__ import annotations

import pytest

from cloud_analytics.silver.anomaly import (
    add_anomaly_flags,
    percentile_flag,
    robust_zscore_flag,
    zscore_flag,
)

A = [round(1 + (i % 10) * 0.1, 1) for i in range(198)] + [2.5, 3.5, 50.0, 60.0]
B = [5.0] * 150 + [6.0] * 50 + [30.0]
GROUPS = ["service", "metric"]


@pytest.fixture(scope="module")
def series(spark):
    rows = [(f"a{i}", "compute", "requests", x) for i, x in enumerate(A)]
    rows += [(f"b{i}", "storage", "cpu_hours", x) for i, x in enumerate(B)]
    rows += [("n0", "storage", "cpu_hours", None)]  # a null cost is never an anomaly
    return spark.createDataFrame(rows, "id string, service string, metric string, cost double").cache()


def _flagged(df, column):
    return sorted({(r.service, r.cost) for r in df.filter(column).collect()})


def test_zscore(series):
    assert _flagged(zscore_flag(series, GROUPS, "cost"), "anomaly_zscore") == [
        ("compute", 50.0), ("compute", 60.0), ("storage", 30.0)]


def test_robust_zscore_with_mad_and_its_zero_mad_fallback(series):
    assert _flagged(robust_zscore_flag(series, GROUPS, "cost"), "anomaly_robust_z") == [
        ("compute", 3.5), ("compute", 50.0), ("compute", 60.0), ("storage", 30.0)]


def test_percentile(series):
    assert _flagged(percentile_flag(series, GROUPS, "cost"), "anomaly_percentile") == [
        ("compute", 50.0), ("compute", 60.0), ("storage", 30.0)]


def test_combined_needs_two_votes_and_keeps_rows(series):
    out = add_anomaly_flags(series, GROUPS, "cost")
    assert out.count() == series.count()
    assert out.columns == series.columns + [
        "anomaly_zscore", "anomaly_robust_z", "anomaly_percentile", "anomaly_votes", "is_anomaly"]
    votes = {r.id: r.anomaly_votes for r in out.filter("anomaly_votes > 0").collect()}
    assert votes == {"a199": 1, "a200": 3, "a201": 3, "b200": 3}  # 3.5 is flagged by one method only
    assert sorted(r.id for r in out.filter("is_anomaly").collect()) == ["a200", "a201", "b200"]
    assert out.filter("id = 'n0'").first().is_anomaly is False


def test_prefix_and_no_groups(series):
    out = add_anomaly_flags(series.filter("service = 'storage'"), [], "cost", prefix="daily_")
    assert [r.id for r in out.filter("daily_is_anomaly").collect()] == ["b200"]


def test_flags_of_a_window_do_not_depend_on_the_run_when_given_the_history(spark):
    from cloud_analytics.silver.anomaly import add_anomaly_flags

    values = [1.0, 1.1, 0.9, 1.0, 1.2, 0.8, 1.0, 1.05, 0.95, 50.0, 1.0, 1.1]
    df = spark.createDataFrame([(i, "g", v) for i, v in enumerate(values)], "day int, grp string, cost double")
    full = {r.day: r.is_anomaly for r in add_anomaly_flags(df, ["grp"], "cost").collect()}
    window = df.filter("day >= 8")
    alone = {r.day: r.is_anomaly for r in add_anomaly_flags(window, ["grp"], "cost", baseline=df).collect()}
    assert alone == {d: full[d] for d in range(8, 12)}
    assert alone[9] is True and alone[8] is False
