"""Silver usage events: one schema for every version, canonical names, enriched, anomaly-flagged.

Input is the ``kept`` frame of ``quality.evaluate(…, "usage_events")`` (EV-03 has imputed the
missing units, quarantined rows are gone). Three steps, each a pure function:
``conform_events`` → ``enrich_events`` (org and resource attributes as of the event date, from
SCD2 history) → ``flag_cost_anomalies``; ``build_silver_events`` chains them.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from cloud_analytics.bronze.schemas import EVENT_SCHEMA_VERSIONS
from cloud_analytics.quality.domains import METRIC_UNITS, canonical
from cloud_analytics.silver.anomaly import add_anomaly_flags
from cloud_analytics.silver.scd2 import as_of_join

ANOMALY_GROUPS = ("service", "metric")
ANOMALY_VALUE = "cost_usd_increment"
ORG_ATTRIBUTES = {"plan_tier": "plan_tier", "industry": "industry", "hq_region": "hq_region"}
RESOURCE_ATTRIBUTES = {"created_at": "resource_created_at", "state": "resource_state",
                       "has_pii": "resource_has_pii"}


def _versions_with(field: str) -> list[int]:
    return sorted(v for v, fields in EVENT_SCHEMA_VERSIONS.items() if field in dict(fields))


def version_field(field: str, dtype: str) -> Column:
    """``field`` where the event's schema version declares it, null where it does not
    (a v1 event has no carbon_kg, whatever a producer may have sent)."""
    return F.when(F.col("schema_version").isin(_versions_with(field)), F.col(field).try_cast(dtype))


def metric_columns() -> list[Column]:
    """requests / cpu_hours / storage_gb_hours: the value in its metric's column, null in the
    others (null, not 0: "not measured by this event" is not "measured zero")."""
    metric = canonical("metric", "metric")
    return [F.when(metric == m, F.col("value").try_cast("double")).alias(m) for m in METRIC_UNITS]


def conform_events(kept: DataFrame) -> DataFrame:
    """Columns: event_id, event_ts, event_date, event_hour, org_id, resource_id, service,
    region, metric, value, unit, requests, cpu_hours, storage_gb_hours, cost_usd_increment,
    schema_version, carbon_kg, genai_tokens, value_was_string, is_late, dq_flags,
    source_file, ingest_ts."""
    return kept.select(
        "event_id", "event_ts", "event_date",
        F.date_trunc("hour", "event_ts").alias("event_hour"),
        "org_id", "resource_id",
        canonical("service", "service").alias("service"),
        canonical("region", "region").alias("region"),
        canonical("metric", "metric").alias("metric"),
        F.col("value").try_cast("double").alias("value"),
        canonical("unit", "unit").alias("unit"),
        *metric_columns(),
        F.col("cost_usd_increment").try_cast("double").alias("cost_usd_increment"),
        "schema_version",
        version_field("carbon_kg", "double").alias("carbon_kg"),
        version_field("genai_tokens", "bigint").alias("genai_tokens"),
        F.col("value_is_string").alias("value_was_string"),
        "is_late", "dq_flags", "source_file", "ingest_ts",
    )


def enrich_events(events: DataFrame, orgs_history: DataFrame, resources_history: DataFrame) -> DataFrame:
    """Add plan_tier, industry, hq_region (org) and resource_created_at, resource_state,
    resource_has_pii (resource), each from the SCD2 version valid on the event date."""
    with_org = as_of_join(events, orgs_history, ["org_id"], "event_date", ORG_ATTRIBUTES)
    return as_of_join(with_org, resources_history, ["resource_id"], "event_date", RESOURCE_ATTRIBUTES)


def flag_cost_anomalies(events: DataFrame, baseline: DataFrame | None = None) -> DataFrame:
    """anomaly_zscore, anomaly_robust_z, anomaly_percentile, anomaly_votes, is_anomaly over
    cost_usd_increment per service + metric, with statistics from ``baseline`` (default: the
    frame given; silver passes every stored event so a day's flags do not depend on the run)."""
    return add_anomaly_flags(events, list(ANOMALY_GROUPS), ANOMALY_VALUE, baseline=baseline)


def build_silver_events(kept: DataFrame, orgs_history: DataFrame, resources_history: DataFrame,
                        baseline: DataFrame | None = None) -> DataFrame:
    """conform → enrich → anomaly flags. ``baseline``: extra conformed events (other dates)
    whose costs join this window's in the anomaly statistics.

    The statistics read the conformed events, not the enriched ones: the as-of joins add
    columns, never rows, and the statistics pass over their input twice, so the two joins
    (each a shuffle of every event) run once, for the output only."""
    conformed = conform_events(kept)
    events = enrich_events(conformed, orgs_history, resources_history)
    cols = [*ANOMALY_GROUPS, ANOMALY_VALUE]
    stats_from = conformed.select(*cols)
    if baseline is not None:
        stats_from = stats_from.unionByName(baseline.select(*cols))
    return flag_cost_anomalies(events, stats_from)
