"""The declared column lists of every silver table: the contract the schema checks enforce
and the data dictionary documents. Changing a transform's output means changing this too."""

_ORG_ATTRS = ["org_name", "industry", "hq_region", "plan_tier", "is_enterprise", "signup_date", "sales_rep",
              "lifecycle_stage", "marketing_source", "nps_score", "nps_in_range"]
_SCD2 = ["valid_from", "valid_to", "is_current", "version", "changed_on"]

SILVER_COLUMNS: dict[str, list[str]] = {
    "customers_orgs": ["org_id", *_ORG_ATTRS, "dq_flags", "snapshot_date"],
    "customers_orgs_history": ["org_id", *_ORG_ATTRS, "dq_flags", *_SCD2],
    "resources": ["resource_id", "org_id", "service", "region", "created_at", "state", "tags_json", "tags",
                  "tags_map", "has_pii", "dq_flags", "snapshot_date"],
    "resources_history": ["resource_id", "org_id", "service", "region", "created_at", "state", "tags", "tags_map",
                          "has_pii", "dq_flags", "tags_json", *_SCD2],
    "users": ["user_id", "org_id", "email_hash", "email_domain", "role", "active", "created_at", "last_login",
              "has_logged_in", "dq_flags", "snapshot_date"],
    "support_tickets": ["ticket_id", "org_id", "category", "severity", "created_at", "resolved_at", "status",
                        "resolution_hours", "csat", "csat_valid", "sla_breached", "dq_flags", "snapshot_date"],
    "marketing_touches": ["touch_id", "org_id", "campaign", "channel", "touch_date", "clicked", "converted",
                          "converted_without_click", "dq_flags", "snapshot_date"],
    "nps_surveys": ["org_id", "survey_date", "nps_score", "nps_in_range", "comment", "dq_flags", "snapshot_date"],
    "billing_monthly": ["invoice_id", "org_id", "month", "currency", "exchange_rate_to_usd", "subtotal", "credits",
                        "taxes", "total", "subtotal_usd", "credits_usd", "taxes_usd", "total_usd", "dq_flags"],
    "usage_events": ["event_id", "event_ts", "event_date", "event_hour", "org_id", "resource_id", "service",
                     "region", "metric", "value", "unit", "requests", "cpu_hours", "storage_gb_hours",
                     "cost_usd_increment", "schema_version", "carbon_kg", "genai_tokens", "value_was_string",
                     "is_late", "dq_flags", "source_file", "ingest_ts", "plan_tier", "industry", "hq_region",
                     "resource_created_at", "resource_state", "resource_has_pii", "anomaly_zscore",
                     "anomaly_robust_z", "anomaly_percentile", "anomaly_votes", "is_anomaly"],
}

# -- types and meanings (documentation; ``cloud-analytics docs`` renders them) ---------------
# The Spark type of every column, as ``DataType.simpleString()``. They are what the transforms
# produce: ``cloud_analytics_tests/test_docs_gen.py`` runs every silver transform on empty
# frames of the bronze schemas and reads the materialized tables back, and fails on any drift.

_ARR = "array<string>"
_ORG_ATTR_TYPES = {"org_name": "string", "industry": "string", "hq_region": "string", "plan_tier": "string",
                   "is_enterprise": "boolean", "signup_date": "date", "sales_rep": "string",
                   "lifecycle_stage": "string", "marketing_source": "string", "nps_score": "double",
                   "nps_in_range": "boolean"}
_SCD2_TYPES = {"valid_from": "date", "valid_to": "date", "is_current": "boolean", "version": "int",
               "changed_on": "date"}
_RESOURCE_TYPES = {"resource_id": "string", "org_id": "string", "service": "string", "region": "string",
                   "created_at": "date", "state": "string"}
_TAG_TYPES = {"tags": _ARR, "tags_map": "map<string,string>", "has_pii": "boolean"}
_AMOUNT_TYPES = {a: "double" for a in ("subtotal", "credits", "taxes", "total")}

SILVER_TYPES: dict[str, dict[str, str]] = {
    "customers_orgs": {"org_id": "string", **_ORG_ATTR_TYPES, "dq_flags": _ARR, "snapshot_date": "date"},
    "customers_orgs_history": {"org_id": "string", **_ORG_ATTR_TYPES, "dq_flags": _ARR, **_SCD2_TYPES},
    "resources": {**_RESOURCE_TYPES, "tags_json": "string", **_TAG_TYPES, "dq_flags": _ARR,
                  "snapshot_date": "date"},
    "resources_history": {**_RESOURCE_TYPES, **_TAG_TYPES, "dq_flags": _ARR, "tags_json": "string", **_SCD2_TYPES},
    "users": {"user_id": "string", "org_id": "string", "email_hash": "string", "email_domain": "string",
              "role": "string", "active": "boolean", "created_at": "date", "last_login": "date",
              "has_logged_in": "boolean", "dq_flags": _ARR, "snapshot_date": "date"},
    "support_tickets": {"ticket_id": "string", "org_id": "string", "category": "string", "severity": "string",
                        "created_at": "date", "resolved_at": "date", "status": "string",
                        "resolution_hours": "double", "csat": "double", "csat_valid": "boolean",
                        "sla_breached": "boolean", "dq_flags": _ARR, "snapshot_date": "date"},
    "marketing_touches": {"touch_id": "string", "org_id": "string", "campaign": "string", "channel": "string",
                          "touch_date": "date", "clicked": "boolean", "converted": "boolean",
                          "converted_without_click": "boolean", "dq_flags": _ARR, "snapshot_date": "date"},
    "nps_surveys": {"org_id": "string", "survey_date": "date", "nps_score": "double", "nps_in_range": "boolean",
                    "comment": "string", "dq_flags": _ARR, "snapshot_date": "date"},
    "billing_monthly": {"invoice_id": "string", "org_id": "string", "month": "date", "currency": "string",
                        "exchange_rate_to_usd": "double", **_AMOUNT_TYPES,
                        **{f"{a}_usd": t for a, t in _AMOUNT_TYPES.items()}, "dq_flags": _ARR},
    "usage_events": {
        "event_id": "string", "event_ts": "timestamp", "event_date": "date", "event_hour": "timestamp",
        "org_id": "string", "resource_id": "string", "service": "string", "region": "string", "metric": "string",
        "value": "double", "unit": "string", "requests": "double", "cpu_hours": "double",
        "storage_gb_hours": "double", "cost_usd_increment": "double", "schema_version": "int",
        "carbon_kg": "double", "genai_tokens": "bigint", "value_was_string": "boolean", "is_late": "boolean",
        "dq_flags": _ARR, "source_file": "string", "ingest_ts": "timestamp", "plan_tier": "string",
        "industry": "string", "hq_region": "string", "resource_created_at": "date", "resource_state": "string",
        "resource_has_pii": "boolean", "anomaly_zscore": "boolean", "anomaly_robust_z": "boolean",
        "anomaly_percentile": "boolean", "anomaly_votes": "int", "is_anomaly": "boolean"},
}

# What one row is.
SILVER_GRAIN: dict[str, str] = {
    "customers_orgs": "one org per snapshot day",
    "customers_orgs_history": "one version of an org (a change of any tracked attribute starts a new one)",
    "resources": "one resource per snapshot day",
    "resources_history": "one version of a resource (state, tags or PII changes start a new one)",
    "users": "one user per snapshot day",
    "support_tickets": "one ticket per snapshot day",
    "marketing_touches": "one marketing touch per snapshot day",
    "nps_surveys": "one survey answer (org, survey day) per snapshot day",
    "billing_monthly": "one invoice",
    "usage_events": "one usage event (deduplicated by event_id, not quarantined)",
}

# One line per column name; a name means the same in every silver table unless
# SILVER_TABLE_MEANINGS overrides it for one table.
SILVER_MEANINGS: dict[str, str] = {
    # shared
    "org_id": "Customer organization id.",
    "dq_flags": "Ids of the flag and fix_and_flag rules that fired on the row (data-quality.md); empty when clean.",
    "snapshot_date": "UTC day the landing file was captured (the snapshot); the partition.",
    # orgs
    "org_name": "Organization name, trimmed.",
    "industry": "Industry of the org (canonical domain value, e.g. Fintech).",
    "hq_region": "Region of the org's headquarters (canonical region code).",
    "plan_tier": "Plan tier: free, standard, pro or enterprise.",
    "is_enterprise": "True for enterprise accounts (source flag).",
    "signup_date": "Day the org signed up.",
    "sales_rep": "Sales representative of the account (canonical).",
    "lifecycle_stage": "Lifecycle stage: lead, prospect, active, at_risk or churned.",
    "marketing_source": "Channel the org was acquired through (partner, event, organic, ads, referral).",
    "nps_score": "NPS score as recorded; kept when off the −100..100 scale (see nps_in_range).",
    "nps_in_range": "True when nps_score is on the −100..100 scale (DOM-01); only those enter averages. "
                    "Null without a score.",
    # SCD2 histories
    "valid_from": "First day the version is valid (inclusive); 1900-01-01 for an entity's first version.",
    "valid_to": "Day the version stops being valid (exclusive); 9999-12-31 while open, the day after the "
                "last snapshot that had the entity when it disappeared.",
    "is_current": "True for the open version (valid_to = 9999-12-31).",
    "version": "Version number within the entity, 1 = first seen.",
    "changed_on": "Snapshot day on which this version first appeared.",
    # resources
    "resource_id": "Cloud resource id.",
    "service": "Cloud service: compute, storage, database, networking, analytics or genai.",
    "region": "Cloud region (canonical code, e.g. us-east).",
    "created_at": "Day the resource was created.",
    "state": "Resource state: running, stopped or terminated.",
    "tags_json": "Tags as the source's raw JSON text.",
    "tags": "Tags parsed from tags_json: trimmed, lower-case, distinct `key:value` strings.",
    "tags_map": "`key:value` tags as a map (several values of one key joined with ',').",
    "has_pii": "True when the resource is tagged `pii:true`.",
    # users
    "user_id": "User id.",
    "email_hash": "Hex HMAC-SHA256 of the trimmed lower-case email, keyed by CLOUD_ANALYTICS_PII_PEPPER; "
                  "null without email.",
    "email_domain": "Domain part of the email (after '@'); null when there is none.",
    "role": "User role (admin, developer, devops, data_engineer, ml_engineer, analyst).",
    "active": "True when the account is active.",
    "last_login": "Day of the user's last login; null = never logged in.",
    "has_logged_in": "True when last_login is set.",
    # tickets
    "ticket_id": "Support ticket id.",
    "category": "Ticket category (performance, security, availability, usability, integration, billing).",
    "severity": "Ticket severity: low, medium, high or critical.",
    "resolved_at": "Day the ticket was resolved; null while open.",
    "status": "open or resolved (from resolved_at).",
    "resolution_hours": "(resolved_at − created_at) in days × 24 (the source has dates only); null while open.",
    "csat": "Satisfaction score as recorded (1..5 expected).",
    "csat_valid": "True when csat is on 1..5 and the ticket is resolved (TK-02, TK-03); only those enter averages.",
    "sla_breached": "True when the ticket breached its SLA (source flag).",
    # marketing and surveys
    "touch_id": "Marketing touch id.",
    "campaign": "Campaign of the touch (canonical).",
    "channel": "Channel of the touch: email, ads, event or in_app.",
    "touch_date": "Day of the touch (the source's `timestamp`).",
    "clicked": "True when the org clicked.",
    "converted": "True when the touch is credited with a conversion.",
    "converted_without_click": "Converted without a click (attributed by another path).",
    "survey_date": "Day the survey was answered.",
    "comment": "Free-text comment, trimmed; null when blank.",
    # billing
    "invoice_id": "Invoice id.",
    "month": "Invoice month (its first day); the partition.",
    "currency": "Invoice currency: USD, ARS or EUR.",
    "exchange_rate_to_usd": "USD per unit of currency; 1 for USD invoices (BI-03).",
    "subtotal": "Subtotal in the invoice currency, rounded to cents; negative on a credit note.",
    "credits": "Credits granted, invoice currency, cents; a missing figure is 0 (BI-02).",
    "taxes": "Taxes, invoice currency, cents.",
    "total": "subtotal − credits + taxes, invoice currency, cents.",
    "subtotal_usd": "subtotal × exchange_rate_to_usd, rounded to cents; null for a non-USD invoice without a rate.",
    "credits_usd": "credits in USD, cents (same conversion).",
    "taxes_usd": "taxes in USD, cents (same conversion).",
    "total_usd": "total in USD, cents (same conversion).",
    # usage events
    "event_id": "Event id; unique in the table.",
    "event_ts": "Event time (UTC).",
    "event_date": "UTC day of event_ts; the partition.",
    "event_hour": "event_ts truncated to the hour (UTC).",
    "metric": "What value measures: requests, cpu_hours or storage_gb_hours.",
    "value": "Measured quantity (also parsed when the JSON held it as a string).",
    "unit": "Unit of value: count, hours or gb_hours (imputed from the metric when missing, EV-03).",
    "requests": "value when metric = requests, else null (not measured by this event).",
    "cpu_hours": "value when metric = cpu_hours, else null.",
    "storage_gb_hours": "value when metric = storage_gb_hours, else null.",
    "cost_usd_increment": "Cost of the event in USD as recorded; negative values are kept and flagged (EV-05).",
    "schema_version": "Schema version of the event (1 or 2).",
    "carbon_kg": "Carbon emitted, kg; null on versions that do not declare it (v1).",
    "genai_tokens": "GenAI tokens; null on versions that do not declare them (v1).",
    "value_was_string": "True when the JSON held value as a string.",
    "is_late": "True when, on ingest, the event was older than the newest stored event minus the allowed "
               "lateness (1 h); stored anyway.",
    "source_file": "Landing file the row came from, relative to the lake root.",
    "ingest_ts": "When bronze ingested the row (UTC).",
    "resource_created_at": "created_at of the resource version valid on the event date.",
    "resource_state": "State of the resource version valid on the event date.",
    "resource_has_pii": "has_pii of the resource version valid on the event date.",
    "anomaly_zscore": "Cost |z| > 3 within its service + metric (mean and stddev over every stored event).",
    "anomaly_robust_z": "|0.6745 (cost − median) / MAD| > 3.5 within its service + metric (mean-AD fallback "
                        "when MAD = 0).",
    "anomaly_percentile": "Cost > 1.5 × the p99 of its service + metric.",
    "anomaly_votes": "How many of the three methods fired (0..3).",
    "is_anomaly": "anomaly_votes ≥ 2.",
}

SILVER_TABLE_MEANINGS: dict[str, dict[str, str]] = {
    "users": {"created_at": "Day the user account was created."},
    "support_tickets": {"created_at": "Day the ticket was opened."},
    "nps_surveys": {"nps_score": "The answer's NPS score; kept when off the −100..100 scale (see nps_in_range)."},
    "usage_events": {
        "plan_tier": "Org's plan tier on the event date (SCD2 as-of join).",
        "industry": "Org's industry on the event date (SCD2 as-of join).",
        "hq_region": "Org's headquarters region on the event date (SCD2 as-of join).",
        "service": "Cloud service of the event (canonical).",
        "region": "Region where the usage happened (canonical).",
    },
}
