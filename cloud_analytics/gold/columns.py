"""The columns of every gold mart, in stored order, with their Spark type and meaning.

Each mart function ends with ``common.contract(df, <its columns>)``, so its output is exactly
the tuple below; ``specs.py`` gives each tuple to the mart's ``TableSpec`` (the per-snapshot
summaries add ``SNAPSHOT_DATE``, which their asset stamps). Kept apart from ``specs.py``
because the transforms need the columns and ``specs.py`` needs the transforms.

Types are ``DataType.simpleString()``. Money: ``*_usd`` / local amounts are ``MONEY``
(``decimal(18,2)``, cents rounded once at the end), ``*_exact`` are ``EXACT``
(``decimal(18,6)``, unrounded sums for exact reconciliation). A constant names a column that
several marts share with the same type and meaning.
"""

from __future__ import annotations

from cloud_analytics.gold.common import EXACT, MONEY
from cloud_analytics.lib.spec import Column, columns

STRINGS = "array<string>"

SNAPSHOT_DATE = Column("snapshot_date", "date", "Silver snapshot the summary was computed from; the partition.")
ORG_ID = Column("org_id", "string", "Customer organization id.")
USAGE_DATE = Column("usage_date", "date", "UTC day of the events; the partition.")
SERVICE = Column("service", "string", "Cloud service: compute, storage, database, networking, analytics or genai.")
EVENT_COUNT = Column("event_count", "bigint", "Events in the group.")
DAILY_COST_USD = Column("daily_cost_usd", MONEY,
                        "The day's cost in USD: daily_cost_usd_exact rounded half-up to cents, once.")
DAILY_COST_USD_EXACT = Column("daily_cost_usd_exact", EXACT,
                              "Exact sum of the events' cost_usd_increment (decimal(18,6)); negative costs included.")
REQUESTS = Column("requests", "double", "Sum of requests of the group's events (0 when none measured requests).")
CPU_HOURS = Column("cpu_hours", "double", "Sum of cpu_hours of the group's events (0 when none).")
STORAGE_GB_HOURS = Column("storage_gb_hours", "double",
                          "Sum of storage_gb_hours of the group's events (0 when none).")
CARBON_KG = Column("carbon_kg", "double",
                   "Sum of carbon_kg; null when no event of the group measured carbon (v1 only), not 0.")
CARBON_MEASURED = Column("carbon_measured", "boolean", "True when at least one event of the group measured carbon.")
REGION = Column("region", "string", "Cloud region (canonical code, e.g. us-east).")
COST_USD = Column("cost_usd", MONEY, "Cost in USD: cost_usd_exact rounded half-up to cents, once.")
COST_USD_EXACT = Column("cost_usd_exact", EXACT, "Exact sum of the events' cost_usd_increment (decimal(18,6)).")
MONTH = Column("month", "date", "Invoice month (its first day); the partition.")
IS_CREDIT_NOTE = Column("is_credit_note", "boolean", "True when the subtotal is negative (a credit note).")
SEVERITY = Column("severity", "string", "Ticket severity: low, medium, high or critical.")

ORG_DAILY_USAGE_BY_SERVICE = (
    ORG_ID, USAGE_DATE, SERVICE,
    *columns(
        ("plan_tier", "string", "Org's plan tier on the day (from the SCD2-enriched events)."),
        ("industry", "string", "Org's industry on the day (from the SCD2-enriched events)."),
    ),
    EVENT_COUNT, DAILY_COST_USD, DAILY_COST_USD_EXACT, REQUESTS, CPU_HOURS, STORAGE_GB_HOURS,
    *columns(
        ("genai_tokens", "bigint", "Sum of genai_tokens; null when no event of the group carried tokens (v1 only)."),
    ),
    CARBON_KG, CARBON_MEASURED,
    *columns(
        ("cost_per_request", "double", "daily_cost_usd_exact / requests; null without requests."),
        ("anomaly_count", "bigint", "Events of the group that silver flagged is_anomaly."),
        ("negative_cost_count", "bigint", "Events of the group below the minimum cost increment (EV-05); "
         "0 unless EV-05 runs in flag-only mode (CLOUD_ANALYTICS_NEGATIVE_COSTS=flag), where they are kept "
         "as credits. By default they are quarantined."),
    ),
)
GENAI_TOKENS_BY_ORG_DATE = (
    ORG_ID,
    *columns(
        ("date", "date", "UTC day of the events; the partition."),
        ("genai_event_count", "bigint", "Events of the genai service."),
        ("token_event_count", "bigint", "Genai events that carried genai_tokens."),
        ("genai_tokens", "bigint", "Sum of tokens of the genai events; null when none carried tokens."),
        ("tokens_measured", "boolean", "True when at least one genai event carried tokens."),
        ("estimated_cost_usd", EXACT,
         "genai_tokens / 1000 × USD 0.002 (list-price assumption), exact; null when not measured."),
        ("recorded_cost_usd", MONEY, "Sum of the genai events' cost_usd_increment, rounded to cents."),
        ("recorded_cost_usd_exact", EXACT, "Exact sum of the genai events' cost_usd_increment."),
        ("recorded_cost_per_1k_tokens_usd", "double",
         "recorded_cost_usd_exact × 1000 / genai_tokens; null without tokens."),
    ),
)
USAGE_HOURLY_BY_SERVICE_REGION = (
    *columns(
        ("usage_date", "date", "UTC day of event_hour; the partition."),
        ("event_hour", "timestamp", "event_ts truncated to the hour (UTC)."),
    ),
    SERVICE, REGION, EVENT_COUNT, COST_USD, COST_USD_EXACT, REQUESTS, CPU_HOURS, STORAGE_GB_HOURS,
)
USAGE_DAILY_BY_SERVICE_REGION = (
    USAGE_DATE, SERVICE, REGION, EVENT_COUNT, COST_USD, COST_USD_EXACT, REQUESTS, CPU_HOURS, STORAGE_GB_HOURS,
    CARBON_KG, CARBON_MEASURED,
)
COST_ANOMALY_MART = (
    ORG_ID,
    *columns(
        ("date", "date", "UTC day of the daily cost; the partition."),
    ),
    SERVICE, DAILY_COST_USD, DAILY_COST_USD_EXACT,
    *columns(
        ("baseline_cost_usd", "double", "Median of the org + service's daily costs over its whole history."),
        ("baseline_mean_usd", "double", "Mean of the org + service's daily costs over its whole history."),
        ("baseline_stddev_usd", "double", "Sample standard deviation of those daily costs."),
        ("baseline_p99_usd", "double", "99th percentile of those daily costs (percentile_approx)."),
        ("baseline_days", "bigint", "Days with a cost in the org + service's history."),
        ("zscore", "double", "(cost − mean) / stddev; null when the stddev is 0 or null."),
        ("robust_z", "double",
         "0.6745 (cost − median) / MAD, or (cost − median) / (1.253314 × mean |cost − median|) when MAD = 0."),
        ("percentile_ratio", "double", "cost / p99; null when the p99 is not positive."),
        ("zscore_fired", "boolean", "|zscore| > 3."),
        ("robust_z_fired", "boolean", "|robust_z| > 3.5."),
        ("percentile_fired", "boolean", "cost > 1.5 × p99."),
        ("methods_fired", STRINGS, "Names of the methods that fired: zscore, robust_z, percentile."),
        ("anomaly_votes", "int", "How many of the three methods fired (0..3)."),
        ("is_anomaly", "boolean", "At least 2 of the 3 methods fired."),
    ),
)
CUSTOMER_360 = (
    ORG_ID,
    *columns(
        ("as_of_date", "date",
         "Day the row is as of (the newest event date when built by the pipeline); the partition."),
        ("org_name", "string", "Organization name, trimmed."),
        ("plan_tier", "string", "Plan tier in the latest orgs snapshot."),
        ("industry", "string", "Industry in the latest orgs snapshot."),
        ("lifecycle_stage", "string", "Lifecycle stage in the latest orgs snapshot."),
        ("event_count", "bigint", "Events of the org up to as_of_date."),
        ("last_event_date", "date", "Day of the org's last event up to as_of_date."),
        ("cost_total_usd", MONEY, "Cost of every event up to as_of_date, cents (0 without events)."),
        ("cost_total_usd_exact", EXACT, "Exact sum behind cost_total_usd."),
        ("cost_last_30d_usd", MONEY, "Cost of the 30 days ending on as_of_date, cents."),
        ("cost_prev_30d_usd", MONEY, "Cost of the 30 days before those, cents."),
        ("revenue_total_usd", MONEY, "Sum of total_usd of the org's invoices for months up to as_of_date."),
        ("last_invoice_month", "date", "Month of the org's latest invoice up to as_of_date."),
        ("last_month_total_usd", MONEY, "total_usd of that latest invoice month."),
        ("invoice_count", "bigint", "Invoices for months up to as_of_date."),
        ("credit_notes", "bigint", "Invoices with a negative subtotal up to as_of_date."),
        ("tickets_total", "bigint", "Tickets created up to as_of_date."),
        ("open_tickets", "bigint", "Of those, tickets not resolved by as_of_date."),
        ("open_critical_tickets", "bigint", "Open tickets of critical severity."),
        ("sla_breach_rate", "double", "Share of the tickets up to as_of_date that breached their SLA."),
        ("mean_csat", "double", "Mean valid CSAT of tickets resolved by as_of_date."),
        ("org_nps_score", "double", "The org's NPS score from master data."),
        ("latest_survey_date", "date", "Day of the latest in-range survey answer up to as_of_date."),
        ("latest_nps_score", "double", "Score of that answer."),
        ("previous_nps_score", "double", "Score of the answer before it."),
        ("nps_delta", "double", "latest_nps_score − previous_nps_score."),
        ("touches", "bigint", "Marketing touches up to as_of_date."),
        ("conversions", "bigint", "Of those, touches credited with a conversion."),
        ("active_resources", "bigint",
         "The org's resources running or stopped (not terminated) in the latest resources snapshot and created "
         "on or before as_of_date (or without created_at); 0 when none."),
        ("usage_component", "double",
         "50 + 50 × 30-day cost growth, clamped 0..100; without spend in the previous 30 days 100 if there is "
         "spend in the last 30, else 0 if the org had events before, else null."),
        ("support_component", "double",
         "100 − 400 × SLA breach rate − 25 × open critical tickets, clamped 0..100; null without tickets."),
        ("csat_component", "double", "25 × (mean valid CSAT − 1), clamped 0..100; null without a valid score."),
        ("nps_component", "double",
         "(NPS + 100) / 2 from the latest in-range survey, else the in-range master-data score."),
        ("billing_component", "double",
         "100 − 200 × credit share − 25 × credit notes, clamped; null without invoices."),
        ("engagement_component", "double",
         "500 × conversions / touches (one in five converted → 100), clamped 0..100; null without touches."),
        ("health_score", "double",
         "Σ weight × component (usage .30, support .20, csat .20, nps .10, billing .10, engagement .10; "
         "null → 50), 0..100, rounded to 0.1 (docs/health-score.md)."),
        ("risk_band", "string", "healthy (score ≥ 70), watch (≥ 50) or at_risk."),
    ),
)
REVENUE_BY_ORG_MONTH = (
    ORG_ID, MONTH,
    *columns(
        ("invoice_count", "bigint", "Invoices in the group."),
        ("invoice_ids", STRINGS, "The group's invoice ids, sorted."),
        ("currency", "string", "Invoice currency; null when the org's invoices of the month differ."),
        ("fx_rate", "double", "USD per unit of currency; null when the invoices' rates differ."),
        ("subtotal", MONEY, "Subtotal in the invoice currency; null when currencies differ or a value is missing."),
        ("credits", MONEY, "Credits in the invoice currency (same rule)."),
        ("taxes", MONEY, "Taxes in the invoice currency (same rule)."),
        ("total", MONEY, "Total in the invoice currency (same rule)."),
        ("subtotal_usd", MONEY, "Sum of the invoices' subtotal_usd; null when one lacks it (no rate)."),
        ("credits_usd", MONEY, "Sum of credits_usd (same rule)."),
        ("taxes_usd", MONEY, "Sum of taxes_usd (same rule)."),
        ("total_usd", MONEY, "Sum of total_usd (same rule)."),
        ("flags", STRINGS, "Distinct dq_flags of the group's invoices, sorted."),
    ),
    IS_CREDIT_NOTE,
)
REVENUE_TREND_MONTHLY = (
    MONTH,
    *columns(
        ("invoice_count", "bigint", "Invoices of the month."),
        ("org_count", "bigint", "Distinct orgs invoiced in the month."),
        ("subtotal_usd", MONEY, "Sum of the month's invoice subtotals, USD."),
        ("credits_usd", MONEY, "Sum of the month's credits, USD."),
        ("taxes_usd", MONEY, "Sum of the month's taxes, USD."),
        ("total_usd", MONEY, "Sum of the month's invoice totals, USD."),
        ("credit_note_count", "bigint", "Invoices with a negative subtotal."),
        ("prev_total_usd", MONEY, "total_usd of the calendar month before; null when that month has no invoice."),
        ("mom_growth", "double",
         "(total_usd − prev_total_usd) / |prev_total_usd|; null without a previous month or when it is 0."),
    ),
)
CREDIT_IMPACT = (
    MONTH, ORG_ID,
    *columns(
        ("subtotal_usd", MONEY, "Sum of subtotal_usd of the org's invoices of the month."),
        ("credits_usd", MONEY, "Sum of credits_usd."),
        ("total_usd", MONEY, "Sum of total_usd."),
        ("net_of_credits_usd", MONEY, "subtotal_usd − credits_usd."),
        ("credit_ratio", "double", "credits_usd / subtotal_usd; null when the subtotal is 0 or negative."),
    ),
    IS_CREDIT_NOTE,
)
COST_VS_BILLING_RECONCILIATION = (
    ORG_ID,
    *columns(
        ("month", "date", "Calendar month (its first day); the partition."),
        ("usage_cost_usd", MONEY, "The month's usage cost from silver events, rounded to cents."),
        ("usage_cost_usd_exact", EXACT, "Exact sum of the month's event costs (decimal(18,6))."),
        ("usage_event_count", "bigint", "Silver events of the org in the month; null without usage."),
        ("usage_days", "bigint",
         "Distinct event days of the org in the month (how much of the month the events cover)."),
        ("invoice_count", "bigint", "Invoices of the org for the month; null without one."),
        ("invoiced_subtotal_usd", MONEY, "Invoiced subtotal in USD; null without an invoice."),
        ("invoiced_total_usd", MONEY, "Invoiced total in USD; null without an invoice."),
        ("difference_usd", MONEY, "invoiced_total_usd − usage_cost_usd."),
        ("billing_ratio", "double", "invoiced_total_usd / usage_cost_usd."),
        ("has_usage", "boolean", "True when the org has events in the month."),
        ("has_invoice", "boolean", "True when the org has an invoice for the month."),
    ),
)
TICKETS_BY_ORG_DATE = (
    ORG_ID,
    *columns(
        ("date", "date",
         "The day: created date for opened, critical_count, sla_breached, csat and mean_csat; resolved "
         "date for resolved; the partition."),
    ),
    SEVERITY,
    *columns(
        ("opened", "bigint", "Tickets created on the day."),
        ("resolved", "bigint", "Tickets resolved on the day."),
        ("open_backlog", "bigint",
         "Tickets created up to the day minus tickets resolved up to the day (org and severity)."),
        ("critical_count", "bigint", "Critical tickets created on the day."),
        ("sla_breached", "bigint", "Tickets created on the day that breached their SLA."),
        ("sla_breach_rate", "double", "sla_breached / opened; null when none opened."),
        ("csat_count", "bigint", "Valid CSAT scores (csat_valid) among the tickets created on the day."),
        ("mean_csat", "double", "Mean valid CSAT (1..5, resolved tickets only); null without one."),
    ),
)
TICKET_RESOLUTION_METRICS = (
    SEVERITY,
    *columns(
        ("category", "string",
         "Ticket category (performance, security, availability, usability, integration, billing)."),
        ("ticket_count", "bigint", "Tickets in the snapshot."),
        ("resolved_count", "bigint", "Resolved tickets."),
        ("open_count", "bigint", "Tickets still open."),
        ("median_resolution_hours", "double", "Median resolution_hours of the resolved tickets (percentile_approx)."),
        ("p90_resolution_hours", "double", "90th percentile of resolution_hours of the resolved tickets."),
        ("mean_resolution_hours", "double", "Mean resolution_hours of the resolved tickets."),
        ("sla_breached", "bigint", "Tickets that breached their SLA."),
        ("sla_breach_rate", "double", "sla_breached / ticket_count."),
        ("mean_csat", "double", "Mean valid CSAT of the group's tickets."),
    ),
)
RESOURCE_UTILIZATION = (
    *columns(
        ("resource_id", "string", "Cloud resource id."),
        ("org_id", "string", "Owner org (from the snapshot, else from the events)."),
    ),
    SERVICE, REGION,
    *columns(
        ("state", "string", "Resource state: running, stopped or terminated."),
        ("created_at", "date", "Day the resource was created."),
        ("has_pii", "boolean", "True when the resource is tagged `pii:true`."),
        ("in_inventory", "boolean",
         "True when the resource is in the snapshot; false for one seen only in events (deleted)."),
        ("event_count", "bigint", "Events of the resource up to as_of_date (0 when none)."),
    ),
    COST_USD, COST_USD_EXACT, REQUESTS, CPU_HOURS, STORAGE_GB_HOURS,
    *columns(
        ("first_event_date", "date", "Day of the resource's first event."),
        ("last_event_date", "date", "Day of the last event."),
        ("events_last_7d", "bigint", "Events in the 7 days up to as_of_date."),
        ("as_of_date", "date", "Last event date of the data; events after it are ignored."),
        ("is_idle_running", "boolean", "State running and no event in the 7 days up to as_of_date."),
    ),
)
USER_ACTIVITY = (
    ORG_ID,
    *columns(
        ("snapshot_date", "date", "Silver users snapshot the summary was computed from; the partition."),
        ("users", "bigint", "Users of the org in the snapshot."),
        ("active_users", "bigint", "Users flagged active."),
        ("active_rate", "double", "active_users / users."),
        ("users_logged_in", "bigint", "Users who ever logged in (has_logged_in)."),
        ("users_never_logged_in", "bigint", "users − users_logged_in."),
        ("users_logged_in_last_30d", "bigint",
         "Users whose last login is within the 30 days up to the snapshot date."),
        ("last_login_date", "date", "Most recent login of any user of the org."),
    ),
)
CAMPAIGN_EFFECTIVENESS = (
    *columns(
        ("campaign", "string", "Campaign of the touch (canonical)."),
        ("channel", "string", "Channel of the touch: email, ads, event or in_app."),
        ("touches", "bigint", "Marketing touches."),
        ("orgs_reached", "bigint", "Distinct orgs touched."),
        ("clicks", "bigint", "Touches that were clicked."),
        ("conversions", "bigint", "Touches credited with a conversion."),
        ("conversions_after_click", "bigint", "Conversions on clicked touches."),
        ("conversions_without_click", "bigint", "Conversions without a click."),
        ("click_rate", "double", "clicks / touches."),
        ("conversion_rate", "double", "conversions / touches."),
        ("click_to_conversion_rate", "double", "conversions_after_click / clicks."),
    ),
)
COST_BASELINES = (
    *columns(
        ("org_id", "string", "Customer organization id, or `*` for the service's baseline over all orgs."),
    ),
    SERVICE,
    *columns(
        ("events", "bigint", "Events with a cost in the baseline."),
        ("median_cost", "double", "Median of the events' cost_usd_increment (percentile_approx)."),
        ("mad_cost", "double", "Median absolute deviation of the costs from median_cost."),
        ("mean_abs_dev_cost", "double",
         "Mean absolute deviation from median_cost: the spread used when more than half the costs equal it."),
        ("p99_cost", "double", "99th percentile of the events' cost_usd_increment."),
    ),
)
