"""The contract of every gold mart: its declared columns (in order), its primary key and the
date column it is partitioned by (None: an unpartitioned summary, rebuilt whole).

Each mart function ends with ``common.contract(df, name)``, so its output is exactly
``GOLD_COLUMNS[name]``. Money: ``*_usd`` / local amounts are ``decimal(18,2)`` (cents, rounded
once at the end), ``*_exact`` are ``decimal(18,6)`` unrounded sums for exact reconciliation.
"""

from __future__ import annotations

_USAGE = ["event_count", "cost_usd", "cost_usd_exact", "requests", "cpu_hours", "storage_gb_hours"]
_AMOUNTS = ["subtotal", "credits", "taxes", "total"]
_AMOUNTS_USD = [f"{a}_usd" for a in _AMOUNTS]
_COMPONENTS = ["usage_component", "support_component", "csat_component", "nps_component", "billing_component"]

GOLD_COLUMNS: dict[str, list[str]] = {
    # -- dashboard marts
    "org_daily_usage_by_service": [
        "org_id", "usage_date", "service", "plan_tier", "industry", "event_count", "daily_cost_usd",
        "daily_cost_usd_exact", "requests", "cpu_hours", "storage_gb_hours", "genai_tokens", "carbon_kg",
        "carbon_measured", "cost_per_request", "anomaly_count", "negative_cost_count"],
    "revenue_by_org_month": [
        "org_id", "month", "invoice_count", "invoice_ids", "currency", "fx_rate", *_AMOUNTS, *_AMOUNTS_USD,
        "flags", "is_credit_note"],
    "cost_anomaly_mart": [
        "org_id", "date", "service", "daily_cost_usd", "daily_cost_usd_exact", "baseline_cost_usd",
        "baseline_mean_usd", "baseline_stddev_usd", "baseline_p99_usd", "baseline_days", "zscore", "robust_z",
        "percentile_ratio", "zscore_fired", "robust_z_fired", "percentile_fired", "methods_fired",
        "anomaly_votes", "is_anomaly"],
    "tickets_by_org_date": [
        "org_id", "date", "severity", "opened", "resolved", "open_backlog", "critical_count", "sla_breached",
        "sla_breach_rate", "csat_count", "mean_csat"],
    "genai_tokens_by_org_date": [
        "org_id", "date", "genai_event_count", "token_event_count", "genai_tokens", "tokens_measured",
        "estimated_cost_usd", "recorded_cost_usd", "recorded_cost_usd_exact", "recorded_cost_per_1k_tokens_usd"],
    # -- usage analytics
    "usage_hourly_by_service_region": ["usage_date", "event_hour", "service", "region", *_USAGE],
    "usage_daily_by_service_region": ["usage_date", "service", "region", *_USAGE, "carbon_kg", "carbon_measured"],
    # -- financial
    "revenue_trend_monthly": [
        "month", "invoice_count", "org_count", *_AMOUNTS_USD, "credit_note_count", "prev_total_usd",
        "mom_growth"],
    "credit_impact": [
        "month", "org_id", "subtotal_usd", "credits_usd", "total_usd", "net_of_credits_usd", "credit_ratio",
        "is_credit_note"],
    "cost_vs_billing_reconciliation": [
        "org_id", "month", "usage_cost_usd", "usage_cost_usd_exact", "usage_event_count", "usage_days",
        "invoice_count", "invoiced_subtotal_usd", "invoiced_total_usd", "difference_usd", "billing_ratio",
        "has_usage", "has_invoice"],
    # -- operational
    "ticket_resolution_metrics": [
        "severity", "category", "ticket_count", "resolved_count", "open_count", "median_resolution_hours",
        "p90_resolution_hours", "mean_resolution_hours", "sla_breached", "sla_breach_rate", "mean_csat"],
    "resource_utilization": [
        "resource_id", "org_id", "service", "region", "state", "created_at", "has_pii", "in_inventory",
        *_USAGE, "first_event_date", "last_event_date", "events_last_7d", "as_of_date", "is_idle_running"],
    "user_activity": [
        "org_id", "snapshot_date", "users", "active_users", "active_rate", "users_logged_in",
        "users_never_logged_in", "users_logged_in_last_30d", "last_login_date"],
    "campaign_effectiveness": [
        "campaign", "channel", "touches", "orgs_reached", "clicks", "conversions", "conversions_after_click",
        "conversions_without_click", "click_rate", "conversion_rate", "click_to_conversion_rate"],
    # -- customer 360
    "customer_360": [
        "org_id", "as_of_date", "org_name", "plan_tier", "industry", "lifecycle_stage",
        "event_count", "last_event_date", "cost_total_usd", "cost_total_usd_exact", "cost_last_30d_usd",
        "cost_prev_30d_usd", "revenue_total_usd", "last_invoice_month", "last_month_total_usd", "invoice_count",
        "credit_notes", "tickets_total", "open_tickets", "open_critical_tickets", "sla_breach_rate", "mean_csat",
        "org_nps_score", "latest_survey_date", "latest_nps_score", "previous_nps_score", "nps_delta",
        "touches", "conversions", *_COMPONENTS, "health_score", "risk_band"],
}

GOLD_KEYS: dict[str, list[str]] = {
    "org_daily_usage_by_service": ["org_id", "usage_date", "service"],
    "revenue_by_org_month": ["org_id", "month"],
    "cost_anomaly_mart": ["org_id", "date", "service"],
    "tickets_by_org_date": ["org_id", "date", "severity"],
    "genai_tokens_by_org_date": ["org_id", "date"],
    "usage_hourly_by_service_region": ["event_hour", "service", "region"],
    "usage_daily_by_service_region": ["usage_date", "service", "region"],
    "revenue_trend_monthly": ["month"],
    "credit_impact": ["month", "org_id"],
    "cost_vs_billing_reconciliation": ["org_id", "month"],
    "ticket_resolution_metrics": ["severity", "category"],
    "resource_utilization": ["resource_id"],
    "user_activity": ["org_id"],
    "campaign_effectiveness": ["campaign", "channel"],
    "customer_360": ["org_id", "as_of_date"],
}

GOLD_PARTITION: dict[str, str | None] = {
    "org_daily_usage_by_service": "usage_date",
    "revenue_by_org_month": "month",
    "cost_anomaly_mart": "date",
    "tickets_by_org_date": "date",
    "genai_tokens_by_org_date": "date",
    "usage_hourly_by_service_region": "usage_date",
    "usage_daily_by_service_region": "usage_date",
    "revenue_trend_monthly": "month",
    "credit_impact": "month",
    "cost_vs_billing_reconciliation": "month",
    "ticket_resolution_metrics": None,
    "resource_utilization": None,
    "user_activity": None,
    "campaign_effectiveness": None,
    "customer_360": "as_of_date",
}
GOLD_TABLES: tuple[str, ...] = tuple(GOLD_COLUMNS)


def _check() -> None:
    for name, columns in GOLD_COLUMNS.items():
        if len(set(columns)) != len(columns):
            raise ValueError(f"{name}: duplicate columns")
        if set(GOLD_KEYS[name]) - set(columns):
            raise ValueError(f"{name}: key columns not declared")
        if GOLD_PARTITION[name] is not None and GOLD_PARTITION[name] not in columns:
            raise ValueError(f"{name}: partition column not declared")
    if not set(GOLD_COLUMNS) == set(GOLD_KEYS) == set(GOLD_PARTITION):
        raise ValueError("GOLD_COLUMNS, GOLD_KEYS and GOLD_PARTITION must name the same marts")


_check()
