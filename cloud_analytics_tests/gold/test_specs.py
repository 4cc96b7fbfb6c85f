"""The gold contract: every table declared once in ``gold/specs.py``, and the checks and summary
figures it declares, run on hand-built frames."""

from datetime import date
from decimal import Decimal

from cloud_analytics.gold.assets import figures, summary_line
from cloud_analytics.gold.specs import COST_RECONCILES, GOLD_BY_NAME, GOLD_SPECS, HEALTH_RANGE, NO_NEGATIVE_COUNTS
from cloud_analytics.lib.spec import CheckInput

MARTS = [
    "org_daily_usage_by_service", "genai_tokens_by_org_date", "usage_hourly_by_service_region",
    "usage_daily_by_service_region", "cost_anomaly_mart", "customer_360", "revenue_by_org_month",
    "revenue_trend_monthly", "credit_impact", "cost_vs_billing_reconciliation", "tickets_by_org_date",
    "ticket_resolution_metrics", "resource_utilization", "user_activity", "campaign_effectiveness",
]


def test_every_gold_table_is_declared_once_in_build_order():
    assert [s.name for s in GOLD_SPECS] == [*MARTS, "cost_baselines"]
    assert {s.layer for s in GOLD_SPECS} == {"gold"}


def test_keys_and_partitions_are_declared_columns():
    for spec in GOLD_SPECS:
        assert set(spec.key) <= set(spec.column_names), spec.name
        assert spec.partition_column is None or spec.partition_column in spec.column_names, spec.name
        assert spec.grain and spec.description and spec.build is not None, spec.name


def test_partitions():
    expected = {
        "org_daily_usage_by_service": ("events_daily", "usage_date"),
        "usage_hourly_by_service_region": ("events_daily", "usage_date"),
        "cost_anomaly_mart": ("events_daily", "date"),
        "genai_tokens_by_org_date": ("events_daily", "date"),
        "customer_360": ("events_daily", "as_of_date"),
        "revenue_by_org_month": ("billing_monthly", "month"),
        "cost_vs_billing_reconciliation": ("billing_monthly", "month"),
        # Rebuilt whole from the newest tickets snapshot: unpartitioned in Dagster and in Delta.
        "tickets_by_org_date": (None, None),
        "ticket_resolution_metrics": ("snapshot_daily", "snapshot_date"),
        "user_activity": ("snapshot_daily", "snapshot_date"),
        "cost_baselines": (None, None),
    }
    assert {n: (GOLD_BY_NAME[n].partitions, GOLD_BY_NAME[n].partition_column) for n in expected} == expected


def test_snapshot_summaries_store_their_snapshot_date_last_unless_they_carry_it():
    for name in ("ticket_resolution_metrics", "resource_utilization", "campaign_effectiveness"):
        assert GOLD_BY_NAME[name].column_names[-1] == "snapshot_date", name
    assert GOLD_BY_NAME["user_activity"].column_names[:2] == ["org_id", "snapshot_date"]


def test_every_mart_checks_its_counts_and_two_marts_check_more():
    for name in MARTS:
        assert GOLD_BY_NAME[name].checks[0] is NO_NEGATIVE_COUNTS, name
    assert GOLD_BY_NAME["org_daily_usage_by_service"].checks[1:] == (COST_RECONCILES,)
    assert GOLD_BY_NAME["customer_360"].checks[1:] == (HEALTH_RANGE,)
    assert [c.name for c in (NO_NEGATIVE_COUNTS, COST_RECONCILES, HEALTH_RANGE)] == [
        "no_negative_counts", "cost_reconciles_with_silver", "health_score_in_range"]
    assert all(c.blocking and c.severity == "ERROR" for c in (NO_NEGATIVE_COUNTS, COST_RECONCILES, HEALTH_RANGE))


def test_audit_laws_name_their_reference_and_the_source_they_count():
    laws = {s.name: s.reconciliations[0] for s in GOLD_SPECS if s.reconciliations}
    assert {n: law.against for n, law in laws.items()} == {
        "org_daily_usage_by_service": "silver/usage_events", "genai_tokens_by_org_date": "silver/usage_events",
        "usage_hourly_by_service_region": "silver/usage_events",
        "usage_daily_by_service_region": "silver/usage_events",
        "cost_anomaly_mart": "gold/org_daily_usage_by_service", "customer_360": "silver/customers_orgs",
        "revenue_by_org_month": "silver/billing_monthly", "revenue_trend_monthly": "silver/billing_monthly",
        "tickets_by_org_date": "silver/support_tickets", "resource_utilization": "silver/resources",
        "user_activity": "silver/users", "campaign_effectiveness": "silver/marketing_touches"}
    assert {law.counts_source: n for n, law in laws.items() if law.counts_source} == {
        "usage_events": "org_daily_usage_by_service", "support_tickets": "tickets_by_org_date",
        "customers_orgs": "customer_360", "billing_monthly": "revenue_by_org_month", "users": "user_activity",
        "marketing_touches": "campaign_effectiveness", "resources": "resource_utilization"}
    assert laws["genai_tokens_by_org_date"].where == "service = 'genai'"
    assert (laws["tickets_by_org_date"].scope, laws["tickets_by_org_date"].own_scope) == ("latest_snapshot", "all")
    assert laws["customer_360"].own_scope == "newest"
    assert laws["user_activity"].own_scope == "reference_snapshot"


def _empty(spark, spec):
    return spark.createDataFrame([], ", ".join(f"`{c.name}` {c.type}" for c in spec.columns))


def test_measures_and_summaries_are_valid_aggregates_over_the_declared_columns(spark):
    for spec in GOLD_SPECS:
        df = _empty(spark, spec)
        exprs = [m.expr for law in spec.reconciliations for m in law.measures] + [e for _, e in spec.summary]
        if exprs:
            assert len(df.selectExpr(*exprs).first()) == len(exprs), spec.name


def test_summary_line_formats_money_counts_and_placed_labels(spark):
    usage = GOLD_BY_NAME["org_daily_usage_by_service"]
    assert summary_line(usage, 1234, [Decimal("5678.9")]) == "1,234 rows, cost USD 5,678.90"
    assert summary_line(usage, 0, [0]) == "0 rows, cost USD 0"
    assert summary_line(GOLD_BY_NAME["cost_anomaly_mart"], 10, [3]) == "10 rows, 3 anomalies"
    assert summary_line(GOLD_BY_NAME["credit_impact"], 7, []) == "7 rows"
    c360 = GOLD_BY_NAME["customer_360"]
    rows = spark.createDataFrame([("a", "healthy"), ("b", "at_risk"), ("c", "healthy")],
                                 "org_id string, risk_band string")
    assert figures(c360, rows) == (3, [2, 0, 1])
    assert summary_line(c360, 3, [2, 0, 1]) == "3 rows, healthy 2, watch 0, at_risk 1"


def test_no_negative_counts_fails_on_a_negative_integer_only(spark):
    ok = spark.createDataFrame([(1, -2.5)], "opened bigint, ratio double")
    bad = spark.createDataFrame([(1, 0), (-1, 0)], "opened bigint, votes int")
    assert NO_NEGATIVE_COUNTS.evaluate(CheckInput(ok, None)).passed
    outcome = NO_NEGATIVE_COUNTS.evaluate(CheckInput(bad, None))
    assert not outcome.passed
    assert outcome.metadata == {"rows_with_negative_counts": 1, "count_columns": 2}


def test_health_score_range(spark):
    scores = spark.createDataFrame([(0.0,), (100.0,), (100.1,), (None,)], "health_score double")
    outcome = HEALTH_RANGE.evaluate(CheckInput(scores, None))
    assert (outcome.passed, outcome.metadata) == (False, {"rows_out_of_range": 2})


def test_cost_reconciles_per_day_to_the_cent(spark):
    day1, day2, outside = date(2025, 7, 1), date(2025, 7, 2), date(2025, 7, 3)
    silver = spark.createDataFrame([(day1, "1.005"), (day1, "2.000"), (day2, "4.10"), (outside, "9.0")],
                                   "event_date date, cost_usd_increment string")
    read = {("silver", "usage_events"): silver}
    mart = spark.createDataFrame([(day1, Decimal("3.005")), (day2, Decimal("4.10"))],
                                 "usage_date date, daily_cost_usd_exact decimal(18,6)")
    outcome = COST_RECONCILES.evaluate(CheckInput(mart, lambda *t: read[t], day1, day2))
    assert outcome.passed and outcome.metadata["days_not_reconciled"] == 0
    assert Decimal(outcome.metadata["silver_cost_usd"]) == Decimal("7.105")
    short = spark.createDataFrame([(day1, Decimal("3.005")), (day2, Decimal("4.09"))],
                                  "usage_date date, daily_cost_usd_exact decimal(18,6)")
    outcome = COST_RECONCILES.evaluate(CheckInput(short, lambda *t: read[t], day1, day2))
    assert not outcome.passed and outcome.metadata["days_not_reconciled"] == 1
