"""Hand-built silver frames for gold tests: exactly the columns of ``silver.specs``, typed as
silver writes them; a test gives only the columns it cares about, the rest are null."""

from __future__ import annotations

from datetime import date, datetime

from cloud_analytics.silver.specs import SILVER_BY_NAME

SNAP = date(2025, 9, 1)
_ARR = "array<string>"

SILVER_TYPES: dict[str, dict[str, str]] = {
    "customers_orgs": {
        "org_id": "string", "org_name": "string", "industry": "string", "hq_region": "string",
        "plan_tier": "string", "is_enterprise": "boolean", "signup_date": "date", "sales_rep": "string",
        "lifecycle_stage": "string", "marketing_source": "string", "nps_score": "double",
        "nps_in_range": "boolean", "dq_flags": _ARR, "snapshot_date": "date"},
    "resources": {
        "resource_id": "string", "org_id": "string", "service": "string", "region": "string",
        "created_at": "date", "state": "string", "tags_json": "string", "tags": _ARR,
        "tags_map": "map<string,string>", "has_pii": "boolean", "dq_flags": _ARR, "snapshot_date": "date"},
    "users": {
        "user_id": "string", "org_id": "string", "email_hash": "string", "email_domain": "string",
        "role": "string", "active": "boolean", "created_at": "date", "last_login": "date",
        "has_logged_in": "boolean", "dq_flags": _ARR, "snapshot_date": "date"},
    "support_tickets": {
        "ticket_id": "string", "org_id": "string", "category": "string", "severity": "string",
        "created_at": "date", "resolved_at": "date", "status": "string", "resolution_hours": "double",
        "csat": "double", "csat_valid": "boolean", "sla_breached": "boolean", "dq_flags": _ARR,
        "snapshot_date": "date"},
    "marketing_touches": {
        "touch_id": "string", "org_id": "string", "campaign": "string", "channel": "string",
        "touch_date": "date", "clicked": "boolean", "converted": "boolean",
        "converted_without_click": "boolean", "dq_flags": _ARR, "snapshot_date": "date"},
    "nps_surveys": {
        "org_id": "string", "survey_date": "date", "nps_score": "double", "nps_in_range": "boolean",
        "comment": "string", "dq_flags": _ARR, "snapshot_date": "date"},
    "billing_monthly": {
        "invoice_id": "string", "org_id": "string", "month": "date", "currency": "string",
        "exchange_rate_to_usd": "double", "subtotal": "double", "credits": "double", "taxes": "double",
        "total": "double", "subtotal_usd": "double", "credits_usd": "double", "taxes_usd": "double",
        "total_usd": "double", "dq_flags": _ARR},
    "usage_events": {
        "event_id": "string", "event_ts": "timestamp", "event_date": "date", "event_hour": "timestamp",
        "org_id": "string", "resource_id": "string", "service": "string", "region": "string",
        "metric": "string", "value": "double", "unit": "string", "requests": "double",
        "cpu_hours": "double", "storage_gb_hours": "double", "cost_usd_increment": "double",
        "schema_version": "int", "carbon_kg": "double", "genai_tokens": "bigint",
        "value_was_string": "boolean", "is_late": "boolean", "dq_flags": _ARR, "source_file": "string",
        "ingest_ts": "timestamp", "plan_tier": "string", "industry": "string", "hq_region": "string",
        "resource_created_at": "date", "resource_state": "string", "resource_has_pii": "boolean",
        "anomaly_zscore": "boolean", "anomaly_robust_z": "boolean", "anomaly_percentile": "boolean",
        "anomaly_votes": "int", "is_anomaly": "boolean"},
}

# Snapshot tables default to one snapshot; events get their date and hour from event_ts.
DEFAULTS: dict[str, dict] = {table: {"dq_flags": []} for table in SILVER_TYPES}
for _t in ("customers_orgs", "resources", "users", "support_tickets", "marketing_touches", "nps_surveys"):
    DEFAULTS[_t]["snapshot_date"] = SNAP
DEFAULTS["usage_events"].update({"org_id": "org_a", "resource_id": "res_a", "service": "compute",
                                 "region": "us-east", "schema_version": 2, "is_anomaly": False})


def schema(table: str) -> str:
    types = SILVER_TYPES[table]
    assert list(types) == SILVER_BY_NAME[table].column_names, f"test types of {table} drift from silver/specs.py"
    return ", ".join(f"`{c}` {types[c]}" for c in types)


def _event_row(row: dict) -> dict:
    ts = row.get("event_ts")
    if isinstance(ts, datetime):
        row.setdefault("event_date", ts.date())
        row.setdefault("event_hour", ts.replace(minute=0, second=0, microsecond=0))
    return row


def silver(spark, table: str, *rows: dict):
    """A silver ``table`` frame, one row per dict (defaults, then the dict; other columns null)."""
    out = []
    for r in rows:
        row = {**DEFAULTS[table], **r}
        if table == "usage_events":
            row = _event_row(row)
        unknown = set(row) - set(SILVER_TYPES[table])
        assert not unknown, f"not silver columns of {table}: {unknown}"
        out.append(tuple(row.get(c) for c in SILVER_TYPES[table]))
    return spark.createDataFrame(out, schema(table))


def ev(event_id: str, ts: datetime, cost: float, **kw) -> dict:
    """An event row: id, timestamp, cost and any other silver columns."""
    return {"event_id": event_id, "event_ts": ts, "cost_usd_increment": cost, **kw}
