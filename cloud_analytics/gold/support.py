"""Support marts from silver ``support_tickets`` (latest snapshot, or the ``snapshot`` given:
it carries the most recent resolved_at of every ticket, which also dates past resolutions).

``tickets_by_org_date`` has a row for every day on which an org+severity opened or resolved a
ticket. The open backlog only changes on those days, so the rows describe it completely:
backlog(d) = tickets created on or before d − tickets resolved on or before d (silver
quarantines tickets resolved before they were created, so every resolved ticket counted was
created by then). ``date`` is the created date for ``opened``, ``sla_breached``,
``sla_breach_rate`` and ``mean_csat`` (the cohort opened that day) and the resolved date for
``resolved``. CSAT averages use valid scores only (``csat_valid``: 1..5 on a resolved ticket).
"""

from __future__ import annotations

from datetime import date

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from cloud_analytics.gold import columns as C
from cloud_analytics.gold.common import contract, count_if, latest_snapshot, ratio

CRITICAL = "critical"
KEYS = ["org_id", "severity"]


def tickets_by_org_date(tickets: DataFrame, snapshot: date | None = None) -> DataFrame:
    """Silver support_tickets → ``tickets_by_org_date`` (key org_id, date, severity)."""
    t = latest_snapshot(tickets, snapshot)
    opened = t.groupBy(*KEYS, F.col("created_at").alias("date")).agg(
        F.count(F.lit(1)).alias("opened"),
        count_if(F.col("severity") == CRITICAL).alias("critical_count"),
        count_if(F.col("sla_breached")).alias("sla_breached"),
        F.avg(F.when(F.col("csat_valid"), F.col("csat"))).alias("mean_csat"),
        count_if(F.col("csat_valid")).alias("csat_count"),
    )
    resolved = t.filter(F.col("resolved_at").isNotNull()).groupBy(
        *KEYS, F.col("resolved_at").alias("date")).agg(F.count(F.lit(1)).alias("resolved"))
    days = opened.join(resolved, [*KEYS, "date"], "full_outer").fillna(
        0, subset=["opened", "critical_count", "sla_breached", "csat_count", "resolved"])
    running = Window.partitionBy(*KEYS).orderBy("date").rowsBetween(Window.unboundedPreceding, 0)
    out = days.withColumns({
        "open_backlog": (F.sum("opened").over(running) - F.sum("resolved").over(running)).try_cast("bigint"),
        "sla_breach_rate": ratio(F.col("sla_breached"), F.col("opened")),
    })
    return contract(out, C.TICKETS_BY_ORG_DATE)


def ticket_resolution_metrics(tickets: DataFrame, snapshot: date | None = None) -> DataFrame:
    """Silver support_tickets → ``ticket_resolution_metrics`` (key severity, category):
    counts, median / p90 / mean resolution_hours over resolved tickets (``percentile_approx``),
    SLA breach rate and mean valid CSAT."""
    t = latest_snapshot(tickets, snapshot)
    hours = F.when(F.col("resolved_at").isNotNull(), F.col("resolution_hours"))
    out = t.groupBy("severity", "category").agg(
        F.count(F.lit(1)).alias("ticket_count"),
        count_if(F.col("resolved_at").isNotNull()).alias("resolved_count"),
        count_if(F.col("resolved_at").isNull()).alias("open_count"),
        F.percentile_approx(hours, 0.5, 10000).alias("median_resolution_hours"),
        F.percentile_approx(hours, 0.9, 10000).alias("p90_resolution_hours"),
        F.avg(hours).alias("mean_resolution_hours"),
        count_if(F.col("sla_breached")).alias("sla_breached"),
        F.avg(F.when(F.col("csat_valid"), F.col("csat"))).alias("mean_csat"),
    ).withColumn("sla_breach_rate", ratio(F.col("sla_breached"), F.col("ticket_count")))
    return contract(out, C.TICKET_RESOLUTION_METRICS)
