"""Tiny hand-built bronze frames: a valid row by default, each test overrides what it tests."""

from __future__ import annotations

from datetime import date, datetime

from cloud_analytics.bronze.specs import BRONZE_BY_NAME, ddl

SNAPSHOT = date(2025, 8, 1)
INGESTED = datetime(2025, 9, 1, 0, 0)

EVENT = {
    "event_id": "evt_ok", "event_ts": datetime(2025, 7, 20, 10, 5), "timestamp_raw": "2025-07-20T10:05:00Z",
    "org_id": "org_a", "resource_id": "res_a", "service": "compute", "region": "us-east",
    "metric": "requests", "value": 10.0, "value_raw": "10.0", "value_is_string": False, "unit": "count",
    "cost_usd_increment": 1.0, "schema_version": 2, "schema_version_known": True, "carbon_kg": 0.5,
    "genai_tokens": None, "cast_errors": None, "extra_fields": None, "is_late": False,
    "lateness_seconds": 0, "event_date": date(2025, 7, 20), "source_file": "events_part_0000.jsonl",
    "ingest_ts": INGESTED, "stream_run": "run_1", "stream_batch_id": 0,
}

CSV_DEFAULTS = {
    "customers_orgs": {"org_id": "org_a", "org_name": "Nimbus Labs 0", "industry": "Fintech",
                       "hq_region": "us-east", "plan_tier": "pro", "is_enterprise": False,
                       "signup_date": date(2025, 6, 1), "sales_rep": "rep_a", "lifecycle_stage": "active",
                       "marketing_source": "ads", "nps_score": 20.0},
    "users": {"user_id": "user_1", "org_id": "org_a", "email": "user_1@example.com", "role": "admin",
              "active": True, "created_at": date(2025, 6, 5), "last_login": date(2025, 8, 1)},
    "resources": {"resource_id": "res_a", "org_id": "org_a", "service": "compute", "region": "eu-west",
                  "created_at": date(2025, 6, 10), "state": "running", "tags_json": '["env:prod"]'},
    "billing_monthly": {"invoice_id": "inv_1", "org_id": "org_a", "month": date(2025, 7, 1),
                        "subtotal": 100.0, "credits": 10.0, "taxes": 21.0, "currency": "EUR",
                        "exchange_rate_to_usd": 1.1},
    "support_tickets": {"ticket_id": "tkt_1", "org_id": "org_a", "category": "billing", "severity": "low",
                        "created_at": date(2025, 7, 1), "resolved_at": date(2025, 7, 3), "csat": 4.0,
                        "sla_breached": False},
    "marketing_touches": {"touch_id": "mkt_1", "org_id": "org_a", "campaign": "welcome", "channel": "email",
                          "timestamp": date(2025, 6, 20), "clicked": True, "converted": False},
    "nps_surveys": {"org_id": "org_a", "survey_date": date(2025, 7, 15), "nps_score": 30.0,
                    "comment": "Great support"},
}


def events(spark, *overrides: dict):
    """Bronze usage_events rows (the stored columns of its spec), one per override dict."""
    spec = BRONZE_BY_NAME["usage_events"]
    rows = [tuple({**EVENT, **o}[n] for n in spec.column_names) for o in overrides]
    return spark.createDataFrame(rows, ddl(spec))


def csv_rows(spark, table: str, *overrides: dict):
    """Bronze rows of a CSV table (source columns + bronze columns), one per override dict."""
    spec = BRONZE_BY_NAME[table]
    base = {**CSV_DEFAULTS[table], "cast_errors": None, "key_conflict": False, "ingest_ts": INGESTED,
            "source_file": f"{table}.csv", "snapshot_date": SNAPSHOT}
    return spark.createDataFrame([tuple({**base, **o}[n] for n in spec.column_names) for o in overrides], ddl(spec))


def refs(spark, orgs=(("org_a", date(2025, 6, 1)), ("org_b", date(2025, 6, 1))),
         resources=(("res_a", "org_a", date(2025, 6, 10)), ("res_b", "org_b", date(2025, 6, 10)))):
    """Reference frames: current orgs and resources, with the columns the rules read."""
    return {
        "orgs": spark.createDataFrame(list(orgs), "org_id string, signup_date date"),
        "resources": spark.createDataFrame(list(resources), "resource_id string, org_id string, created_at date"),
    }
