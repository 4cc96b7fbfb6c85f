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
