"""Silver usage events: one schema for v1 and v2, canonical names, metric columns, as-of
enrichment from SCD2 history, anomaly columns."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from cloud_analytics.quality import evaluate
from cloud_analytics.silver.dims import conform_orgs, conform_resources, orgs_history, resources_history
from cloud_analytics.silver.usage_events import build_silver_events, conform_events
from cloud_analytics_tests.quality.frames import csv_rows, events, refs

D1, D2 = date(2025, 8, 1), date(2025, 8, 2)


@pytest.fixture(scope="module")
def kept(spark):
    df = events(
        spark,
        {"event_id": "v1", "schema_version": 1, "carbon_kg": 0.3, "service": " Compute ", "region": "us_east",
         "event_ts": datetime(2025, 7, 10, 10, 59, 30), "event_date": date(2025, 7, 10)},
        {"event_id": "v2", "metric": "cpu_hours", "unit": None, "value": 2.5, "value_raw": "2.5",
         "event_ts": datetime(2025, 8, 2, 7, 0), "event_date": D2},
        {"event_id": "g2", "service": "genai", "genai_tokens": 1200, "metric": "storage_gb_hours",
         "unit": "gb_hours", "event_ts": datetime(2025, 8, 1, 23, 59), "event_date": D1},
    )
    return evaluate(df, "usage_events", refs(spark)).kept


def test_one_schema_for_both_versions(kept):
    rows = {r.event_id: r for r in conform_events(kept).collect()}
    v1, v2, g2 = rows["v1"], rows["v2"], rows["g2"]
    assert (v1.schema_version, v1.carbon_kg, v1.genai_tokens) == (1, None, None)
    assert (v2.schema_version, v2.carbon_kg, v2.genai_tokens) == (2, 0.5, None)
    assert g2.genai_tokens == 1200
    assert (v1.service, v1.region, v1.event_hour) == ("compute", "us-east", datetime(2025, 7, 10, 10, 0))
    assert (v1.requests, v1.cpu_hours, v1.storage_gb_hours) == (10.0, None, None)
    assert (v2.unit, v2.requests, v2.cpu_hours, v2.storage_gb_hours, v2.dq_flags) == (
        "hours", None, 2.5, None, ["EV-03"])
    assert (g2.requests, g2.cpu_hours, g2.storage_gb_hours) == (None, None, 10.0)


def test_enrichment_as_of_event_date_and_anomaly_columns(spark, kept):
    orgs = csv_rows(spark, "customers_orgs", {"plan_tier": "pro", "snapshot_date": D1},
                    {"plan_tier": "enterprise", "snapshot_date": D2})
    resources = csv_rows(spark, "resources", {"state": "running", "tags_json": '["pii:true"]', "snapshot_date": D1},
                         {"state": "stopped", "tags_json": '["pii:true"]', "snapshot_date": D2})
    oh = orgs_history(conform_orgs(evaluate(orgs, "customers_orgs").kept))
    rh = resources_history(conform_resources(evaluate(resources, "resources", refs(spark)).kept))
    out = build_silver_events(kept, oh, rh)
    rows = {r.event_id: r for r in out.collect()}
    assert len(rows) == 3
    # v1 predates the first snapshot: the first version is valid from the beginning of time
    assert (rows["v1"].plan_tier, rows["v1"].industry, rows["v1"].hq_region) == ("pro", "Fintech", "us-east")
    assert (rows["g2"].plan_tier, rows["g2"].resource_state) == ("pro", "running")
    assert (rows["v2"].plan_tier, rows["v2"].resource_state) == ("enterprise", "stopped")
    assert (rows["v2"].resource_created_at, rows["v2"].resource_has_pii) == (date(2025, 6, 10), True)
    assert {"anomaly_zscore", "anomaly_robust_z", "anomaly_percentile", "is_anomaly"} <= set(out.columns)
    assert not any(r.is_anomaly for r in rows.values())
