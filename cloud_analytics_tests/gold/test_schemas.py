"""The gold contract: every mart declared once with columns, key and partition column."""

from cloud_analytics.gold.schemas import GOLD_COLUMNS, GOLD_KEYS, GOLD_PARTITION

MARTS = {
    "org_daily_usage_by_service", "revenue_by_org_month", "cost_anomaly_mart", "tickets_by_org_date",
    "genai_tokens_by_org_date", "usage_hourly_by_service_region", "usage_daily_by_service_region",
    "revenue_trend_monthly", "credit_impact", "cost_vs_billing_reconciliation", "ticket_resolution_metrics",
    "resource_utilization", "user_activity", "campaign_effectiveness", "customer_360",
}


def test_every_mart_is_declared_in_all_three_contracts():
    assert set(GOLD_COLUMNS) == set(GOLD_KEYS) == set(GOLD_PARTITION) == MARTS


def test_keys_and_partitions_are_declared_columns():
    for mart, columns in GOLD_COLUMNS.items():
        assert set(GOLD_KEYS[mart]) <= set(columns), mart
        assert GOLD_PARTITION[mart] is None or GOLD_PARTITION[mart] in columns, mart


def test_partition_columns():
    assert GOLD_PARTITION["org_daily_usage_by_service"] == "usage_date"
    assert GOLD_PARTITION["revenue_by_org_month"] == "month"
    assert GOLD_PARTITION["cost_anomaly_mart"] == "date"
    assert GOLD_PARTITION["tickets_by_org_date"] == "date"
    assert GOLD_PARTITION["genai_tokens_by_org_date"] == "date"
    assert GOLD_PARTITION["customer_360"] == "as_of_date"
    assert GOLD_PARTITION["ticket_resolution_metrics"] is None
