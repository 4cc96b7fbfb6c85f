"""Gold assets: every mart of ``gold/schemas.py`` as a partitioned Delta table.

Each asset computes its mart from silver for the run's partition window and replaces exactly
that window (``replaceWhere`` on the mart's partition column). Usage-derived marts are daily
on the event date; billing marts monthly; ticket marts daily on the ticket date (rebuilt from
the latest tickets snapshot); the summaries (resolution metrics, utilization, user activity,
campaigns) are daily snapshots: partition D = the summary as of snapshot D.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable

from dagster import (
    AssetDep,
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    LastPartitionMapping,
    MaterializeResult,
    asset,
)
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from cloud_analytics.bronze.assets import day_window
from cloud_analytics.delta_io import date_window_predicate, replace_where, table_metadata
from cloud_analytics.gold import anomalies, customer_360, finance, product, support, usage
from cloud_analytics.gold import checks
from cloud_analytics.gold.schemas import GOLD_COLUMNS
from cloud_analytics.partitions import billing_monthly, events_daily, snapshot_daily
from cloud_analytics.resources.lake import LakeResource
from cloud_analytics.resources.spark import SparkResource

KIND = {"spark", "delta"}
SNAPSHOT_SUMMARIES = ("ticket_resolution_metrics", "resource_utilization", "user_activity", "campaign_effectiveness")


def silver_key(table: str) -> AssetKey:
    return AssetKey(["silver", table])


def gold_key(mart: str) -> AssetKey:
    return AssetKey(["gold", mart])


@dataclass(frozen=True)
class Inputs:
    """What a mart builder gets: the session, the lake and the run's inclusive day window."""

    spark: SparkSession
    lake: LakeResource
    start: date
    end: date

    def silver(self, table: str) -> DataFrame:
        return self.spark.read.format("delta").load(self.lake.table("silver", table))

    def gold(self, mart: str) -> DataFrame:
        return self.spark.read.format("delta").load(self.lake.table("gold", mart))

    def events(self) -> DataFrame:
        return self.silver("usage_events").filter(date_window_predicate("event_date", self.start, self.end))


@dataclass(frozen=True)
class Mart:
    name: str
    partitions: object
    partition_column: str
    deps: tuple
    build: Callable[[Inputs], DataFrame]
    description: str


def _per_day(inputs: Inputs, build: Callable[[date], DataFrame]) -> DataFrame:
    days = [inputs.start + timedelta(days=i) for i in range((inputs.end - inputs.start).days + 1)]
    frames = [build(d) for d in days]
    out = frames[0]
    for frame in frames[1:]:
        out = out.unionByName(frame)
    return out


def _snapshot_summary(build: Callable[[Inputs, date], DataFrame]) -> Callable[[Inputs], DataFrame]:
    """Partition D of a summary = the summary of snapshot D, stamped with snapshot_date."""
    def run(inputs: Inputs) -> DataFrame:
        def one(day: date) -> DataFrame:
            df = build(inputs, day)
            return df if "snapshot_date" in df.columns else df.withColumn("snapshot_date", F.lit(day))
        return _per_day(inputs, one)
    return run


LAST = LastPartitionMapping()
EVENTS = silver_key("usage_events")
MARTS = [
    Mart("org_daily_usage_by_service", events_daily, "usage_date", (EVENTS,),
         lambda i: usage.org_daily_usage_by_service(i.events()),
         "Daily cost, requests, metrics, anomaly and negative-cost counts per org and service (q1, q2)."),
    Mart("genai_tokens_by_org_date", events_daily, "date", (EVENTS,),
         lambda i: product.genai_tokens_by_org_date(i.events()),
         "GenAI tokens, events, estimated and recorded cost per org and day (q5)."),
    Mart("usage_hourly_by_service_region", events_daily, "usage_date", (EVENTS,),
         lambda i: usage.usage_hourly_by_service_region(i.events()),
         "Hourly usage and cost by service and region."),
    Mart("usage_daily_by_service_region", events_daily, "usage_date", (EVENTS,),
         lambda i: usage.usage_daily_by_service_region(i.events()),
         "Daily usage, cost and carbon by service and region (carbon not measured on v1-only days)."),
    Mart("cost_anomaly_mart", events_daily, "date", (gold_key("org_daily_usage_by_service"),),
         lambda i: anomalies.cost_anomaly_mart(
             anomalies.daily_costs_from_usage_mart(i.gold("org_daily_usage_by_service")), (i.start, i.end)),
         "Daily cost per org and service against its baseline, scored by three methods."),
    Mart("customer_360", events_daily, "as_of_date",
         (EVENTS, *[AssetDep(silver_key(t), partition_mapping=LAST) for t in
                    ("customers_orgs", "support_tickets", "nps_surveys", "marketing_touches")],
          AssetDep(silver_key("billing_monthly"), partition_mapping=LAST)),
         lambda i: _per_day(i, lambda d: customer_360.customer_360(
             i.silver("customers_orgs"), i.silver("usage_events"), i.silver("billing_monthly"),
             i.silver("support_tickets"), i.silver("nps_surveys"), i.silver("marketing_touches"), as_of=d)),
         "One row per org as of a day: usage, spend, billing, tickets, NPS, marketing, health score."),
    Mart("revenue_by_org_month", billing_monthly, "month", (silver_key("billing_monthly"),),
         lambda i: finance.revenue_by_org_month(i.silver("billing_monthly")),
         "Revenue per org and month in USD and original currency, FX rate applied (q4)."),
    Mart("revenue_trend_monthly", billing_monthly, "month", (silver_key("billing_monthly"),),
         lambda i: finance.revenue_trend_monthly(i.silver("billing_monthly")),
         "Monthly revenue totals and month-over-month growth."),
    Mart("credit_impact", billing_monthly, "month", (silver_key("billing_monthly"),),
         lambda i: finance.credit_impact(i.silver("billing_monthly")),
         "Credits as a share of subtotal per org and month."),
    Mart("cost_vs_billing_reconciliation", billing_monthly, "month", (silver_key("billing_monthly"), EVENTS),
         lambda i: finance.cost_vs_billing_reconciliation(i.silver("usage_events"), i.silver("billing_monthly")),
         "Usage cost from events against the invoiced amount per org and month."),
    Mart("tickets_by_org_date", snapshot_daily, "date", (AssetDep(silver_key("support_tickets"), partition_mapping=LAST),),
         lambda i: support.tickets_by_org_date(i.silver("support_tickets")),
         "Tickets opened, resolved, backlog, critical, SLA breach rate, valid CSAT per org, day, severity (q3)."),
    Mart("ticket_resolution_metrics", snapshot_daily, "snapshot_date", (silver_key("support_tickets"),),
         _snapshot_summary(lambda i, d: support.ticket_resolution_metrics(i.silver("support_tickets"), d)),
         "Median / p90 resolution hours by severity and category, per snapshot."),
    Mart("resource_utilization", snapshot_daily, "snapshot_date", (silver_key("resources"), EVENTS),
         _snapshot_summary(lambda i, d: usage.resource_utilization(i.silver("resources"), i.silver("usage_events"), d)),
         "Usage per resource and idle running resources, per snapshot."),
    Mart("user_activity", snapshot_daily, "snapshot_date", (silver_key("users"),),
         _snapshot_summary(lambda i, d: product.user_activity(i.silver("users"), d)),
         "Users, active users and logins per org, per snapshot."),
    Mart("campaign_effectiveness", snapshot_daily, "snapshot_date", (silver_key("marketing_touches"),),
         _snapshot_summary(lambda i, d: product.campaign_effectiveness(i.silver("marketing_touches"), d)),
         "Touches, click and conversion rates per campaign and channel, per snapshot."),
]


def declared_columns(mart: str) -> list[str]:
    cols = GOLD_COLUMNS[mart]
    return cols if mart not in SNAPSHOT_SUMMARIES or "snapshot_date" in cols else [*cols, "snapshot_date"]


def build_gold_asset(mart: Mart):
    key = gold_key(mart.name)

    @asset(
        key=key, group_name="gold", description=mart.description, deps=list(mart.deps),
        partitions_def=mart.partitions, backfill_policy=BackfillPolicy.single_run(), kinds=KIND,
        tags={"layer": "gold"}, check_specs=checks.specs(key, mart.name),
    )
    def _gold(context: AssetExecutionContext, spark: SparkResource, lake: LakeResource) -> MaterializeResult:
        session = spark.spark_session
        start, end = day_window(context)
        window = date_window_predicate(mart.partition_column, start, end)
        df = mart.build(Inputs(session, lake, start, end)).filter(window)
        path = lake.table("gold", mart.name)
        replace_where(df, path, window, [mart.partition_column])
        written = session.read.format("delta").load(path).filter(window).cache()
        rows = written.count()
        results = checks.evaluate(key, mart.name, written, declared_columns(mart.name), session, lake, start, end)
        summary = checks.summary(mart.name, written, rows)
        written.unpersist()
        context.log.info(f"gold/{mart.name}: {summary}")
        return MaterializeResult(metadata=table_metadata(session, path, rows, summary=summary),
                                 check_results=results)

    return _gold


assets = [build_gold_asset(mart) for mart in MARTS]
MARTS_BY_NAME = {mart.name: mart for mart in MARTS}
