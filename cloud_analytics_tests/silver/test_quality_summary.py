"""The quality summary a silver asset takes from the metric rows it writes equals the one
``quality.metrics_summary`` reads back from the stored table."""

from __future__ import annotations

from datetime import date

from cloud_analytics.quality import evaluate, metrics, metrics_summary
from cloud_analytics.silver.assets import _metrics_summary
from cloud_analytics_tests.quality.frames import events, refs


def test_summary_of_the_rows_written_equals_the_summary_read_back(spark):
    df = events(
        spark,
        {"event_id": "e1"},
        {"event_id": "e2", "cost_usd_increment": -3.0},  # EV-05 quarantine
        {"event_id": "e4", "schema_version": 7, "org_id": "org_zz"},
        {"event_id": "e5", "event_date": date(2025, 7, 21), "service": "quantum", "org_id": "org_zz"},
    )
    counts = metrics(evaluate(df, "usage_events", refs(spark)))
    rows = [r.asDict() for r in counts.collect()]
    assert _metrics_summary(rows) == metrics_summary(counts)
    assert _metrics_summary(rows)["evaluated"] == 4 and _metrics_summary(rows)["quarantined"] == 3
    assert _metrics_summary([]) == metrics_summary(counts.limit(0))
