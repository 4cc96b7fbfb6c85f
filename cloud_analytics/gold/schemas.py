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

# -- types and meanings (documentation; ``cloud-analytics docs`` renders them) ---------------
# The Spark type of every stored column, as ``DataType.simpleString()``: the declared columns
# plus, for the per-snapshot summaries (GOLD_PARTITION None), the ``snapshot_date`` the asset
# appends as its partition column. ``cloud_analytics_tests/test_docs_gen.py`` runs every mart
# on empty silver frames and reads the materialized marts back, and fails on any drift.

_EXACT, _MONEY = "decimal(18,6)", "decimal(18,2)"
_ARR = "array<string>"
_USAGE_TYPES = {"event_count": "bigint", "cost_usd": _MONEY, "cost_usd_exact": _EXACT, "requests": "double",
                "cpu_hours": "double", "storage_gb_hours": "double"}
_SNAPSHOT = {"snapshot_date": "date"}

GOLD_TYPES: dict[str, dict[str, str]] = {
    "org_daily_usage_by_service": {
        "org_id": "string", "usage_date": "date", "service": "string", "plan_tier": "string", "industry": "string",
        "event_count": "bigint", "daily_cost_usd": _MONEY, "daily_cost_usd_exact": _EXACT, "requests": "double",
        "cpu_hours": "double", "storage_gb_hours": "double", "genai_tokens": "bigint", "carbon_kg": "double",
        "carbon_measured": "boolean", "cost_per_request": "double", "anomaly_count": "bigint",
        "negative_cost_count": "bigint"},
    "revenue_by_org_month": {
        "org_id": "string", "month": "date", "invoice_count": "bigint", "invoice_ids": _ARR, "currency": "string",
        "fx_rate": "double", **{a: _MONEY for a in _AMOUNTS}, **{a: _MONEY for a in _AMOUNTS_USD},
        "flags": _ARR, "is_credit_note": "boolean"},
    "cost_anomaly_mart": {
        "org_id": "string", "date": "date", "service": "string", "daily_cost_usd": _MONEY,
        "daily_cost_usd_exact": _EXACT, "baseline_cost_usd": "double", "baseline_mean_usd": "double",
        "baseline_stddev_usd": "double", "baseline_p99_usd": "double", "baseline_days": "bigint",
        "zscore": "double", "robust_z": "double", "percentile_ratio": "double", "zscore_fired": "boolean",
        "robust_z_fired": "boolean", "percentile_fired": "boolean", "methods_fired": _ARR,
        "anomaly_votes": "int", "is_anomaly": "boolean"},
    "tickets_by_org_date": {
        "org_id": "string", "date": "date", "severity": "string", "opened": "bigint", "resolved": "bigint",
        "open_backlog": "bigint", "critical_count": "bigint", "sla_breached": "bigint",
        "sla_breach_rate": "double", "csat_count": "bigint", "mean_csat": "double"},
    "genai_tokens_by_org_date": {
        "org_id": "string", "date": "date", "genai_event_count": "bigint", "token_event_count": "bigint",
        "genai_tokens": "bigint", "tokens_measured": "boolean", "estimated_cost_usd": _EXACT,
        "recorded_cost_usd": _MONEY, "recorded_cost_usd_exact": _EXACT,
        "recorded_cost_per_1k_tokens_usd": "double"},
    "usage_hourly_by_service_region": {
        "usage_date": "date", "event_hour": "timestamp", "service": "string", "region": "string", **_USAGE_TYPES},
    "usage_daily_by_service_region": {
        "usage_date": "date", "service": "string", "region": "string", **_USAGE_TYPES, "carbon_kg": "double",
        "carbon_measured": "boolean"},
    "revenue_trend_monthly": {
        "month": "date", "invoice_count": "bigint", "org_count": "bigint", **{a: _MONEY for a in _AMOUNTS_USD},
        "credit_note_count": "bigint", "prev_total_usd": _MONEY, "mom_growth": "double"},
    "credit_impact": {
        "month": "date", "org_id": "string", "subtotal_usd": _MONEY, "credits_usd": _MONEY, "total_usd": _MONEY,
        "net_of_credits_usd": _MONEY, "credit_ratio": "double", "is_credit_note": "boolean"},
    "cost_vs_billing_reconciliation": {
        "org_id": "string", "month": "date", "usage_cost_usd": _MONEY, "usage_cost_usd_exact": _EXACT,
        "usage_event_count": "bigint", "usage_days": "bigint", "invoice_count": "bigint",
        "invoiced_subtotal_usd": _MONEY, "invoiced_total_usd": _MONEY, "difference_usd": _MONEY,
        "billing_ratio": "double", "has_usage": "boolean", "has_invoice": "boolean"},
    "ticket_resolution_metrics": {
        "severity": "string", "category": "string", "ticket_count": "bigint", "resolved_count": "bigint",
        "open_count": "bigint", "median_resolution_hours": "double", "p90_resolution_hours": "double",
        "mean_resolution_hours": "double", "sla_breached": "bigint", "sla_breach_rate": "double",
        "mean_csat": "double", **_SNAPSHOT},
    "resource_utilization": {
        "resource_id": "string", "org_id": "string", "service": "string", "region": "string", "state": "string",
        "created_at": "date", "has_pii": "boolean", "in_inventory": "boolean", **_USAGE_TYPES,
        "first_event_date": "date", "last_event_date": "date", "events_last_7d": "bigint", "as_of_date": "date",
        "is_idle_running": "boolean", **_SNAPSHOT},
    "user_activity": {
        "org_id": "string", "snapshot_date": "date", "users": "bigint", "active_users": "bigint",
        "active_rate": "double", "users_logged_in": "bigint", "users_never_logged_in": "bigint",
        "users_logged_in_last_30d": "bigint", "last_login_date": "date"},
    "campaign_effectiveness": {
        "campaign": "string", "channel": "string", "touches": "bigint", "orgs_reached": "bigint", "clicks": "bigint",
        "conversions": "bigint", "conversions_after_click": "bigint", "conversions_without_click": "bigint",
        "click_rate": "double", "conversion_rate": "double", "click_to_conversion_rate": "double", **_SNAPSHOT},
    "customer_360": {
        "org_id": "string", "as_of_date": "date", "org_name": "string", "plan_tier": "string",
        "industry": "string", "lifecycle_stage": "string", "event_count": "bigint", "last_event_date": "date",
        "cost_total_usd": _MONEY, "cost_total_usd_exact": _EXACT, "cost_last_30d_usd": _MONEY,
        "cost_prev_30d_usd": _MONEY, "revenue_total_usd": _MONEY, "last_invoice_month": "date",
        "last_month_total_usd": _MONEY, "invoice_count": "bigint", "credit_notes": "bigint",
        "tickets_total": "bigint", "open_tickets": "bigint", "open_critical_tickets": "bigint",
        "sla_breach_rate": "double", "mean_csat": "double", "org_nps_score": "double",
        "latest_survey_date": "date", "latest_nps_score": "double", "previous_nps_score": "double",
        "nps_delta": "double", "touches": "bigint", "conversions": "bigint",
        **{c: "double" for c in _COMPONENTS}, "health_score": "double", "risk_band": "string"},
}

# What one row is.
GOLD_GRAIN: dict[str, str] = {
    "org_daily_usage_by_service": "one org, UTC day and service with at least one event",
    "revenue_by_org_month": "one org and invoice month",
    "cost_anomaly_mart": "one org, UTC day and service with a daily cost, scored against its whole history",
    "tickets_by_org_date": "one org, day and severity on which a ticket was opened or resolved",
    "genai_tokens_by_org_date": "one org and UTC day with at least one genai event",
    "usage_hourly_by_service_region": "one UTC hour, service and region",
    "usage_daily_by_service_region": "one UTC day, service and region",
    "revenue_trend_monthly": "one invoice month (all orgs)",
    "credit_impact": "one invoice month and org",
    "cost_vs_billing_reconciliation": "one org and month with usage, an invoice or both",
    "ticket_resolution_metrics": "one severity and category, per snapshot",
    "resource_utilization": "one resource (in the snapshot's inventory or seen in events), per snapshot",
    "user_activity": "one org, per snapshot",
    "campaign_effectiveness": "one campaign and channel, per snapshot",
    "customer_360": "one org (of the latest orgs snapshot) as of one day",
}

# One line per column name; silver's SILVER_MEANINGS covers the names gold takes over
# unchanged (org_id, service, plan_tier, …). GOLD_TABLE_MEANINGS overrides for one mart.
GOLD_MEANINGS: dict[str, str] = {
    "snapshot_date": "Silver snapshot the summary was computed from; the partition.",
    "usage_date": "UTC day of the events; the partition.",
    "event_count": "Events in the group.",
    "daily_cost_usd": "The day's cost in USD: daily_cost_usd_exact rounded half-up to cents, once.",
    "daily_cost_usd_exact": "Exact sum of the events' cost_usd_increment (decimal(18,6)); negative costs included.",
    "cost_usd": "Cost in USD: cost_usd_exact rounded half-up to cents, once.",
    "cost_usd_exact": "Exact sum of the events' cost_usd_increment (decimal(18,6)).",
    "requests": "Sum of requests of the group's events (0 when none measured requests).",
    "cpu_hours": "Sum of cpu_hours of the group's events (0 when none).",
    "storage_gb_hours": "Sum of storage_gb_hours of the group's events (0 when none).",
    "genai_tokens": "Sum of genai_tokens; null when no event of the group carried tokens (v1 only).",
    "carbon_kg": "Sum of carbon_kg; null when no event of the group measured carbon (v1 only), not 0.",
    "carbon_measured": "True when at least one event of the group measured carbon.",
    "cost_per_request": "daily_cost_usd_exact / requests; null without requests.",
    "anomaly_count": "Events of the group that silver flagged is_anomaly.",
    "negative_cost_count": "Events of the group with a negative cost.",
    # finance
    "invoice_count": "Invoices in the group.",
    "invoice_ids": "The group's invoice ids, sorted.",
    "fx_rate": "USD per unit of currency; null when the invoices' rates differ.",
    "flags": "Distinct dq_flags of the group's invoices, sorted.",
    "is_credit_note": "True when the subtotal is negative (a credit note).",
    "org_count": "Distinct orgs invoiced in the month.",
    "credit_note_count": "Invoices with a negative subtotal.",
    "prev_total_usd": "total_usd of the calendar month before; null when that month has no invoice.",
    "mom_growth": "(total_usd − prev_total_usd) / |prev_total_usd|; null without a previous month or when it is 0.",
    "net_of_credits_usd": "subtotal_usd − credits_usd.",
    "credit_ratio": "credits_usd / subtotal_usd; null when the subtotal is 0 or negative.",
    "usage_cost_usd": "The month's usage cost from silver events, rounded to cents.",
    "usage_cost_usd_exact": "Exact sum of the month's event costs (decimal(18,6)).",
    "usage_event_count": "Silver events of the org in the month; null without usage.",
    "usage_days": "Distinct event days of the org in the month (how much of the month the events cover).",
    "invoiced_subtotal_usd": "Invoiced subtotal in USD; null without an invoice.",
    "invoiced_total_usd": "Invoiced total in USD; null without an invoice.",
    "difference_usd": "invoiced_total_usd − usage_cost_usd.",
    "billing_ratio": "invoiced_total_usd / usage_cost_usd.",
    "has_usage": "True when the org has events in the month.",
    "has_invoice": "True when the org has an invoice for the month.",
    # anomalies
    "baseline_cost_usd": "Median of the org + service's daily costs over its whole history.",
    "baseline_mean_usd": "Mean of the org + service's daily costs over its whole history.",
    "baseline_stddev_usd": "Sample standard deviation of those daily costs.",
    "baseline_p99_usd": "99th percentile of those daily costs (percentile_approx).",
    "baseline_days": "Days with a cost in the org + service's history.",
    "zscore": "(cost − mean) / stddev; null when the stddev is 0 or null.",
    "robust_z": "0.6745 (cost − median) / MAD, or (cost − median) / (1.253314 × mean |cost − median|) when MAD = 0.",
    "percentile_ratio": "cost / p99; null when the p99 is not positive.",
    "zscore_fired": "|zscore| > 3.",
    "robust_z_fired": "|robust_z| > 3.5.",
    "percentile_fired": "cost > 1.5 × p99.",
    "methods_fired": "Names of the methods that fired: zscore, robust_z, percentile.",
    "anomaly_votes": "How many of the three methods fired (0..3).",
    "is_anomaly": "At least 2 of the 3 methods fired.",
    # support
    "opened": "Tickets created on the day.",
    "resolved": "Tickets resolved on the day.",
    "open_backlog": "Tickets created up to the day minus tickets resolved up to the day (org and severity).",
    "critical_count": "Critical tickets created on the day.",
    "sla_breach_rate": "sla_breached / tickets counted; null when there are none.",
    "csat_count": "Valid CSAT scores (csat_valid) among the tickets created on the day.",
    "mean_csat": "Mean valid CSAT (1..5, resolved tickets only); null without one.",
    "ticket_count": "Tickets in the snapshot.",
    "resolved_count": "Resolved tickets.",
    "open_count": "Tickets still open.",
    "median_resolution_hours": "Median resolution_hours of the resolved tickets (percentile_approx).",
    "p90_resolution_hours": "90th percentile of resolution_hours of the resolved tickets.",
    "mean_resolution_hours": "Mean resolution_hours of the resolved tickets.",
    # genai
    "genai_event_count": "Events of the genai service.",
    "token_event_count": "Genai events that carried genai_tokens.",
    "tokens_measured": "True when at least one genai event carried tokens.",
    "estimated_cost_usd": "genai_tokens / 1000 × USD 0.002 (list-price assumption), exact; null when not measured.",
    "recorded_cost_usd": "Sum of the genai events' cost_usd_increment, rounded to cents.",
    "recorded_cost_usd_exact": "Exact sum of the genai events' cost_usd_increment.",
    "recorded_cost_per_1k_tokens_usd": "recorded_cost_usd_exact × 1000 / genai_tokens; null without tokens.",
    # resources, users, campaigns
    "in_inventory": "True when the resource is in the snapshot; false for one seen only in events (deleted).",
    "first_event_date": "Day of the resource's first event.",
    "last_event_date": "Day of the last event.",
    "events_last_7d": "Events in the 7 days up to as_of_date.",
    "as_of_date": "Day the figures are as of; facts dated after it are ignored.",
    "is_idle_running": "State running and no event in the 7 days up to as_of_date.",
    "users": "Users of the org in the snapshot.",
    "active_users": "Users flagged active.",
    "active_rate": "active_users / users.",
    "users_logged_in": "Users who ever logged in (has_logged_in).",
    "users_never_logged_in": "users − users_logged_in.",
    "users_logged_in_last_30d": "Users whose last login is within the 30 days up to the snapshot date.",
    "last_login_date": "Most recent login of any user of the org.",
    "touches": "Marketing touches.",
    "orgs_reached": "Distinct orgs touched.",
    "clicks": "Touches that were clicked.",
    "conversions": "Touches credited with a conversion.",
    "conversions_after_click": "Conversions on clicked touches.",
    "conversions_without_click": "Conversions without a click.",
    "click_rate": "clicks / touches.",
    "conversion_rate": "conversions / touches.",
    "click_to_conversion_rate": "conversions_after_click / clicks.",
    # customer 360
    "cost_total_usd": "Cost of every event up to as_of_date, cents (0 without events).",
    "cost_total_usd_exact": "Exact sum behind cost_total_usd.",
    "cost_last_30d_usd": "Cost of the 30 days ending on as_of_date, cents.",
    "cost_prev_30d_usd": "Cost of the 30 days before those, cents.",
    "revenue_total_usd": "Sum of total_usd of the org's invoices for months up to as_of_date.",
    "last_invoice_month": "Month of the org's latest invoice up to as_of_date.",
    "last_month_total_usd": "total_usd of that latest invoice month.",
    "credit_notes": "Invoices with a negative subtotal up to as_of_date.",
    "tickets_total": "Tickets created up to as_of_date.",
    "open_tickets": "Of those, tickets not resolved by as_of_date.",
    "open_critical_tickets": "Open tickets of critical severity.",
    "org_nps_score": "The org's NPS score from master data.",
    "latest_survey_date": "Day of the latest in-range survey answer up to as_of_date.",
    "latest_nps_score": "Score of that answer.",
    "previous_nps_score": "Score of the answer before it.",
    "nps_delta": "latest_nps_score − previous_nps_score.",
    "usage_component": "50 + 50 × 30-day cost growth, clamped 0..100; null without spend in the previous 30 days.",
    "support_component": "100 − 10 × open − 20 × open critical − 50 × SLA breach rate, clamped; null without tickets.",
    "csat_component": "25 × (mean valid CSAT − 1), clamped 0..100; null without a valid score.",
    "nps_component": "(NPS + 100) / 2 from the latest in-range survey, else the in-range master-data score.",
    "billing_component": "100 − 200 × credit share − 25 × credit notes, clamped; null without invoices.",
    "health_score": "Σ weight × component (usage .30, support .20, csat .15, nps .20, billing .15; null → 50), "
                    "0..100, rounded to 0.1.",
    "risk_band": "healthy (score ≥ 70), watch (≥ 40) or at_risk.",
}

GOLD_TABLE_MEANINGS: dict[str, dict[str, str]] = {
    "org_daily_usage_by_service": {"plan_tier": "Org's plan tier on the day (from the SCD2-enriched events).",
                                   "industry": "Org's industry on the day (from the SCD2-enriched events)."},
    "cost_anomaly_mart": {"date": "UTC day of the daily cost; the partition."},
    "tickets_by_org_date": {
        "date": "The day: created date for opened, critical_count, sla_breached, csat and mean_csat; resolved "
                "date for resolved; the partition.",
        "sla_breached": "Tickets created on the day that breached their SLA.",
        "sla_breach_rate": "sla_breached / opened; null when none opened."},
    "genai_tokens_by_org_date": {"date": "UTC day of the events; the partition.",
                                 "genai_tokens": "Sum of tokens of the genai events; null when none carried tokens."},
    "usage_hourly_by_service_region": {"usage_date": "UTC day of event_hour; the partition."},
    "revenue_by_org_month": {
        "currency": "Invoice currency; null when the org's invoices of the month differ.",
        "subtotal": "Subtotal in the invoice currency; null when currencies differ or a value is missing.",
        "credits": "Credits in the invoice currency (same rule).",
        "taxes": "Taxes in the invoice currency (same rule).",
        "total": "Total in the invoice currency (same rule).",
        "subtotal_usd": "Sum of the invoices' subtotal_usd; null when one lacks it (no rate).",
        "credits_usd": "Sum of credits_usd (same rule).",
        "taxes_usd": "Sum of taxes_usd (same rule).",
        "total_usd": "Sum of total_usd (same rule)."},
    "revenue_trend_monthly": {"subtotal_usd": "Sum of the month's invoice subtotals, USD.",
                              "credits_usd": "Sum of the month's credits, USD.",
                              "taxes_usd": "Sum of the month's taxes, USD.",
                              "total_usd": "Sum of the month's invoice totals, USD.",
                              "invoice_count": "Invoices of the month."},
    "credit_impact": {"subtotal_usd": "Sum of subtotal_usd of the org's invoices of the month.",
                      "credits_usd": "Sum of credits_usd.", "total_usd": "Sum of total_usd."},
    "cost_vs_billing_reconciliation": {"month": "Calendar month (its first day); the partition.",
                                       "invoice_count": "Invoices of the org for the month; null without one."},
    "ticket_resolution_metrics": {"sla_breached": "Tickets that breached their SLA.",
                                  "sla_breach_rate": "sla_breached / ticket_count.",
                                  "mean_csat": "Mean valid CSAT of the group's tickets."},
    "resource_utilization": {
        "org_id": "Owner org (from the snapshot, else from the events).",
        "as_of_date": "Last event date of the data; events after it are ignored.",
        "event_count": "Events of the resource up to as_of_date (0 when none)."},
    "user_activity": {"snapshot_date": "Silver users snapshot the summary was computed from; the partition."},
    "customer_360": {
        "as_of_date": "Day the row is as of (the newest event date when built by the pipeline); the partition.",
        "plan_tier": "Plan tier in the latest orgs snapshot.",
        "industry": "Industry in the latest orgs snapshot.",
        "lifecycle_stage": "Lifecycle stage in the latest orgs snapshot.",
        "event_count": "Events of the org up to as_of_date.",
        "last_event_date": "Day of the org's last event up to as_of_date.",
        "invoice_count": "Invoices for months up to as_of_date.",
        "sla_breach_rate": "Share of the tickets up to as_of_date that breached their SLA.",
        "mean_csat": "Mean valid CSAT of tickets resolved by as_of_date.",
        "touches": "Marketing touches up to as_of_date.",
        "conversions": "Of those, touches credited with a conversion."},
}
