"""Usage marts: daily usage per org and service, hourly/daily usage per service and region,
and per-resource utilization. Input: silver ``usage_events`` (every kept, i.e. non-quarantined,
event; negative costs included: they are money) and, for resources, silver ``resources``.

Money follows ``gold.common``: costs are summed exactly as ``decimal(18,6)`` (``*_exact``)
and rounded to cents once, at the end (``daily_cost_usd`` / ``cost_usd``, ``decimal(18,2)``).
Metric sums (requests, cpu_hours, storage_gb_hours) are 0 when no event of that metric fell in
the group. ``carbon_kg`` is null, not 0, when no event of the group measured carbon (schema v1
events do not): "not measured" is not "zero emissions"; ``carbon_measured`` says which.
"""

from __future__ import annotations

from datetime import date

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from cloud_analytics.gold import columns as C
from cloud_analytics.gold.common import cents, contract, count_if, latest_snapshot, ratio, sum_exact

IDLE_DAYS = 7  # a running resource with no event in the last 7 days of data is idle
RUNNING = "running"


def _metric_sum(col: str) -> Column:
    return F.coalesce(F.sum(col), F.lit(0.0)).alias(col)


def usage_aggregates(cost_col: str = "cost_usd_exact", carbon: bool = True) -> list[Column]:
    """event_count, exact cost, the three metric sums and (``carbon``) carbon_kg (null = not
    measured) with carbon_measured."""
    measured = F.count("carbon_kg") > 0
    aggs = [
        F.count(F.lit(1)).alias("event_count"),
        sum_exact("cost_usd_increment").alias(cost_col),
        _metric_sum("requests"), _metric_sum("cpu_hours"), _metric_sum("storage_gb_hours"),
    ]
    return aggs + ([F.when(measured, F.sum("carbon_kg")).alias("carbon_kg"),
                    measured.alias("carbon_measured")] if carbon else [])


def org_daily_usage_by_service(events: DataFrame) -> DataFrame:
    """Silver usage_events → ``org_daily_usage_by_service`` (key org_id, usage_date, service).

    plan_tier and industry are the org's attributes as of the day (silver enriched each event
    from SCD2 history, so they are constant within a day). cost_per_request is null when the
    day has no requests; genai_tokens is null when no event carried tokens.
    """
    daily = events.groupBy("org_id", F.col("event_date").alias("usage_date"), "service").agg(
        F.max("plan_tier").alias("plan_tier"), F.max("industry").alias("industry"),
        *usage_aggregates("daily_cost_usd_exact"),
        F.sum("genai_tokens").try_cast("bigint").alias("genai_tokens"),
        count_if(F.col("is_anomaly")).alias("anomaly_count"),
        # The rule's threshold, not a second one: rows below it reach gold only in flag-only mode.
        count_if(F.array_contains(F.col("dq_flags"), "EV-05")).alias("negative_cost_count"),
    )
    return contract(daily.withColumns({
        "daily_cost_usd": cents(F.col("daily_cost_usd_exact")),
        "cost_per_request": ratio(F.col("daily_cost_usd_exact"), F.col("requests")),
    }), C.ORG_DAILY_USAGE_BY_SERVICE)


def usage_hourly_by_service_region(events: DataFrame) -> DataFrame:
    """Silver usage_events → ``usage_hourly_by_service_region`` (key event_hour, service,
    region; usage_date = the hour's UTC day, the partition)."""
    hourly = events.groupBy(F.col("event_date").alias("usage_date"), "event_hour", "service", "region") \
        .agg(*usage_aggregates())
    return contract(hourly.withColumn("cost_usd", cents(F.col("cost_usd_exact"))), C.USAGE_HOURLY_BY_SERVICE_REGION)


def usage_daily_by_service_region(events: DataFrame) -> DataFrame:
    """Silver usage_events → ``usage_daily_by_service_region`` (key usage_date, service, region),
    with carbon_kg and carbon_measured (false on days with only v1 events: carbon null)."""
    daily = events.groupBy(F.col("event_date").alias("usage_date"), "service", "region") \
        .agg(*usage_aggregates())
    return contract(daily.withColumn("cost_usd", cents(F.col("cost_usd_exact"))), C.USAGE_DAILY_BY_SERVICE_REGION)


def resource_utilization(resources: DataFrame, events: DataFrame, snapshot: date | None = None,
                         as_of: date | None = None) -> DataFrame:
    """Silver resources (latest snapshot, or ``snapshot``) + usage_events → ``resource_utilization``
    (key resource_id).

    ``as_of_date`` is ``as_of`` or the last event date of the data; events after it are ignored.
    ``is_idle_running``: state running and no event in the last ``IDLE_DAYS`` days of data
    (as_of − 6 … as_of). A resource with events but absent from the snapshot (deleted) keeps
    its usage, with ``in_inventory`` false and its attributes from the events.
    """
    if as_of is not None:
        events = events.filter(F.col("event_date") <= F.lit(as_of))
        as_of_frame = events.sparkSession.range(1).select(F.lit(as_of).alias("as_of_date"))
    else:
        as_of_frame = events.agg(F.max("event_date").alias("as_of_date"))
    recent_from = F.date_sub(F.col("as_of_date"), IDLE_DAYS - 1)
    usage = events.crossJoin(F.broadcast(as_of_frame)).groupBy("resource_id").agg(
        F.max("org_id").alias("_e_org_id"), F.max("service").alias("_e_service"),
        F.max("region").alias("_e_region"),
        *usage_aggregates(carbon=False),
        F.min("event_date").alias("first_event_date"), F.max("event_date").alias("last_event_date"),
        count_if(F.col("event_date") >= recent_from).alias("events_last_7d"),
    )
    inventory = latest_snapshot(resources, snapshot).select(
        "resource_id", "org_id", "service", "region", "state", "created_at", "has_pii",
        F.lit(True).alias("in_inventory"))
    joined = inventory.join(usage, "resource_id", "full_outer").crossJoin(F.broadcast(as_of_frame))
    out = joined.withColumns({
        "org_id": F.coalesce("org_id", "_e_org_id"),
        "service": F.coalesce("service", "_e_service"),
        "region": F.coalesce("region", "_e_region"),
        "in_inventory": F.coalesce("in_inventory", F.lit(False)),
        "event_count": F.coalesce("event_count", F.lit(0)).try_cast("bigint"),
        "cost_usd_exact": F.coalesce("cost_usd_exact", F.lit(0).try_cast("decimal(18,6)")),
        **{m: F.coalesce(m, F.lit(0.0)) for m in ("requests", "cpu_hours", "storage_gb_hours")},
        "events_last_7d": F.coalesce("events_last_7d", F.lit(0)).try_cast("bigint"),
    })
    out = out.withColumns({
        "cost_usd": cents(F.col("cost_usd_exact")),
        "is_idle_running": F.coalesce(F.col("state") == RUNNING, F.lit(False)) & (F.col("events_last_7d") == 0),
    })
    return contract(out, C.RESOURCE_UTILIZATION)
