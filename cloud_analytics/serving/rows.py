"""Gold mart rows → Cassandra serving rows: one pure function per serving table.

Each function takes its gold mart (any window of it) and returns the table's CQL columns in
the order its spec declares them (``serving/specs.py``); the speed layer applies the same
functions to its provisional marts, so batch and speed rows of a table are built alike.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from cloud_analytics.serving.queries import PLATFORM


def metric_map(*pairs: tuple[str, str]) -> Column:
    """A CQL map<text, double> from gold columns (key, column), without null entries."""
    entries = F.array(*[F.when(F.col(c).isNotNull(), F.struct(F.lit(k).alias("k"), F.col(c).try_cast("double").alias("v")))
                        for k, c in pairs])
    return F.map_from_entries(F.filter(entries, lambda e: e.isNotNull()))


def _loaded_at() -> Column:
    return F.current_timestamp().alias("loaded_at")


def org_daily_usage(g: DataFrame) -> DataFrame:
    return g.select("org_id", "usage_date", "service", "daily_cost_usd",
                    F.round("requests").cast("bigint").alias("requests"),
                    F.col("event_count").cast("bigint"), F.col("cost_per_request").try_cast("double"),
                    metric_map(("cpu_hours", "cpu_hours"), ("storage_gb_hours", "storage_gb_hours"),
                               ("genai_tokens", "genai_tokens"), ("carbon_kg", "carbon_kg")).alias("metrics"),
                    F.col("anomaly_count").cast("int"), F.col("negative_cost_count").cast("int"),
                    F.lit("batch").alias("source"), _loaded_at())


def genai_by_org_day(g: DataFrame) -> DataFrame:
    return g.select("org_id", F.col("date").alias("usage_date"),
                    F.round("genai_tokens").cast("bigint").alias("tokens"),
                    F.col("genai_event_count").cast("bigint").alias("events"),
                    F.col("estimated_cost_usd").try_cast("decimal(18,6)"), "recorded_cost_usd",
                    F.lit("batch").alias("source"), _loaded_at())


def cost_anomalies_by_org(g: DataFrame) -> DataFrame:
    return g.select("org_id", F.col("date").alias("anomaly_date"), "service", "daily_cost_usd",
                    F.col("baseline_cost_usd").try_cast("double").alias("baseline_usd"),
                    metric_map(("zscore", "zscore"), ("robust_z", "robust_z"),
                               ("percentile_ratio", "percentile_ratio")).alias("scores"),
                    "methods_fired", "is_anomaly", _loaded_at())


HEALTH_COMPONENTS = ("usage_component", "support_component", "csat_component", "nps_component", "billing_component",
                     "engagement_component")


def customer_health_by_org(g: DataFrame) -> DataFrame:
    return g.select("org_id", "as_of_date", F.col("health_score").try_cast("double"), "risk_band",
                    F.col("active_resources").cast("int"),
                    metric_map(*[(c.removesuffix("_component"), c) for c in HEALTH_COMPONENTS]).alias("components"),
                    metric_map(("cost_last_30d_usd", "cost_last_30d_usd"), ("revenue_total_usd", "revenue_total_usd"),
                               ("open_tickets", "open_tickets"), ("open_critical_tickets", "open_critical_tickets"),
                               ("latest_nps_score", "latest_nps_score"), ("mean_csat", "mean_csat")).alias("facts"),
                    _loaded_at())


def tickets_by_org_day(g: DataFrame) -> DataFrame:
    counts = (("opened", "opened"), ("resolved", "resolved"), ("open_backlog", "open_backlog"),
              ("critical_count", "critical"), ("sla_breached", "sla_breached"))
    return g.select("org_id", F.col("date").alias("ticket_date"), "severity",
                    *[F.col(c).cast("int").alias(a) for c, a in counts],
                    "sla_breach_rate", F.col("mean_csat").try_cast("double"), _loaded_at())


def tickets_by_day(g: DataFrame) -> DataFrame:
    """Per org and day over all severities, keyed by the day's month (one partition per month)."""
    return g.groupBy("org_id", "date").agg(
        F.sum("opened").cast("int").alias("opened"), F.sum("critical_count").cast("int").alias("critical"),
        F.sum("sla_breached").cast("int").alias("sla_breached")).select(
        F.date_format("date", "yyyy-MM").alias("month"), F.col("date").alias("ticket_date"), "org_id",
        "opened", "critical", "sla_breached", _loaded_at())


def platform_tickets_by_day(g: DataFrame) -> DataFrame:
    """Every org's tickets summed per day, in the one platform partition (q3 across orgs). Only
    days on which a ticket was opened: the mart's resolution-only days add nothing to q3, and
    without them the table's newest date (q3's default as-of) is the newest opened day."""
    return g.groupBy("date").agg(
        F.sum("opened").alias("opened"), F.sum("critical_count").alias("critical"),
        F.sum("sla_breached").alias("sla_breached")).filter(F.col("opened") > 0).select(
        F.lit(PLATFORM).alias("scope"), F.col("date").alias("ticket_date"),
        *[F.col(c).cast("int").alias(c) for c in ("opened", "critical", "sla_breached")], _loaded_at())


def platform_cost_by_day(g: DataFrame) -> DataFrame:
    """Every org's daily cost summed per day, with the anomalous org/service days counted, in the
    one platform partition (the dashboard's platform overview)."""
    return g.groupBy("date").agg(
        F.sum("daily_cost_usd").alias("cost_usd"), F.count_distinct("org_id").cast("int").alias("orgs"),
        F.count_if("is_anomaly").cast("int").alias("anomalies"),
        F.count_distinct(F.when(F.col("is_anomaly"), F.col("org_id"))).cast("int").alias("anomalous_orgs")).select(
        F.lit(PLATFORM).alias("scope"), F.col("date").alias("usage_date"), "cost_usd", "orgs", "anomalies",
        "anomalous_orgs", _loaded_at())


def revenue_by_org(g: DataFrame) -> DataFrame:
    return g.select("org_id", "month", "currency", F.col("fx_rate").try_cast("double"), "subtotal_usd",
                    "credits_usd", "taxes_usd", "total_usd", F.col("total").alias("total_original"),
                    F.array_distinct("flags").alias("flags"), _loaded_at())


def revenue_by_month(g: DataFrame) -> DataFrame:
    return g.select("month", "org_id", "currency", "subtotal_usd", "credits_usd", "taxes_usd", "total_usd",
                    _loaded_at())


USD_AMOUNTS = ("subtotal_usd", "credits_usd", "taxes_usd", "total_usd")


def platform_revenue_by_month(g: DataFrame) -> DataFrame:
    """Every org's revenue summed per month in USD, in the one platform partition (q4 across
    orgs). The sums are of the orgs' USD amounts (an org whose invoice has no exchange rate has
    none: it is counted in ``orgs_without_usd`` and left out of the sums, never added in its
    own currency)."""
    return g.groupBy("month").agg(
        F.count(F.lit(1)).cast("int").alias("orgs"),
        F.count_if(F.col("total_usd").isNull()).cast("int").alias("orgs_without_usd"),
        *[F.sum(c).alias(c) for c in USD_AMOUNTS]).select(
        F.lit(PLATFORM).alias("scope"), "month", "orgs", "orgs_without_usd", *USD_AMOUNTS, _loaded_at())
