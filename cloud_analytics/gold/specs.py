"""The contract of every gold table: one ``TableSpec`` per mart, in the order they are built.

Each spec holds the mart's columns (``columns.py``), key, grain, partitions, upstream tables,
its builder (a function of ``inputs.Inputs``), the checks beyond the generic ones, the laws the
audit reconciles and the figures of its summary line. ``assets.py`` derives the Dagster
assets and checks from them; the audit and the data dictionary read them too. Dagster-free.

Partitioning: usage-derived marts are daily on the event date; billing marts monthly; the
summaries (resolution metrics, utilization, user activity, campaigns) are daily snapshots:
partition D = the summary as of snapshot D, stamped with ``snapshot_date``. A table rebuilt
whole on every run is unpartitioned, in Dagster and in Delta: the ticket mart (every row comes
from the newest tickets snapshot, so ~600 daily partitions would be ~600 materializations and
~600 tiny files per run) and the cost baselines. The key checked unique is the spec's key
within its partition column, or over the whole table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from cloud_analytics.gold import anomalies, baselines, customer_360, finance, product, support, usage
from cloud_analytics.gold import columns as C
from cloud_analytics.gold.common import EXACT, MONEY
from cloud_analytics.gold.inputs import Inputs, per_day, snapshot_summary
from cloud_analytics.lib.spec import Check, CheckInput, Dep, Measure, Outcome, Reconciliation, TableSpec, by_name
from cloud_analytics.lib.windows import date_window_predicate

# -- checks beyond keys and schema ------------------------------------------------------------------

COUNT_TYPES = ("bigint", "int", "smallint")


@dataclass(frozen=True)
class RowCondition:
    """A check on the written rows alone: it fails on the rows matching ``failing`` (a Spark
    SQL condition over the written schema; None when no row can fail). The gold asset counts
    those rows in the pass that writes them (``ROW_CONDITIONS``); ``evaluate`` counts them on
    any frame, with the same outcome."""

    failing: Callable[[StructType], str | None]
    outcome: Callable[[int, StructType], Outcome]

    def evaluate(self, given: CheckInput) -> Outcome:
        condition = self.failing(given.written.schema)
        bad = given.written.filter(condition).count() if condition else 0
        return self.outcome(bad, given.written.schema)


def _count_columns(schema: StructType) -> list[str]:
    return [f.name for f in schema.fields if f.dataType.simpleString() in COUNT_TYPES]


NEGATIVE_COUNTS = RowCondition(
    lambda schema: " OR ".join(f"`{c}` < 0" for c in _count_columns(schema)) or None,
    lambda bad, schema: Outcome(bad == 0, {"rows_with_negative_counts": bad,
                                           "count_columns": len(_count_columns(schema))}))
HEALTH_OUT_OF_RANGE = RowCondition(
    lambda _schema: "health_score IS NULL OR health_score < 0 OR health_score > 100",
    lambda bad, _schema: Outcome(bad == 0, {"rows_out_of_range": bad}))


def _cost_reconciles(given: CheckInput) -> Outcome:
    """Per day: the mart's exact cost sum equals silver's, and so do the sums in cents."""
    silver = (given.read("silver", "usage_events")
              .filter(date_window_predicate("event_date", given.start, given.end))
              .groupBy(F.col("event_date").alias("d"))
              .agg(F.sum(F.col("cost_usd_increment").try_cast(EXACT)).alias("silver")))
    gold = given.written.groupBy(F.col("usage_date").alias("d")).agg(F.sum("daily_cost_usd_exact").alias("gold"))
    joined = silver.join(gold, "d", "full")
    bad = joined.filter(F.round(F.coalesce("silver", F.lit(0)), 2) != F.round(F.coalesce("gold", F.lit(0)), 2))
    mismatches = bad.count()
    totals = joined.agg(F.sum("silver").alias("s"), F.sum("gold").alias("g")).first()
    return Outcome(mismatches == 0, {"days_not_reconciled": mismatches, "silver_cost_usd": str(totals["s"]),
                                     "gold_cost_usd": str(totals["g"])})


NO_NEGATIVE_COUNTS = Check("no_negative_counts", "integer counts >= 0", NEGATIVE_COUNTS.evaluate, blocking=True)
COST_RECONCILES = Check("cost_reconciles_with_silver",
                        "per day, sum of daily cost = silver cost sum, exact to the cent", _cost_reconciles,
                        blocking=True)
HEALTH_RANGE = Check("health_score_in_range", "health_score within 0..100", HEALTH_OUT_OF_RANGE.evaluate,
                     blocking=True)
# The checks the gold asset evaluates from its write's own counts, by name.
ROW_CONDITIONS: dict[str, RowCondition] = {NO_NEGATIVE_COUNTS.name: NEGATIVE_COUNTS,
                                           HEALTH_RANGE.name: HEALTH_OUT_OF_RANGE}

# -- the audit's laws: gold against silver ------------------------------------------------------------

EVENTS = Dep("silver/usage_events")
EXACT_COST = f"sum(try_cast(cost_usd_increment AS {EXACT}))"


def _events_law(cost_column: str, counts_source: str | None = None) -> Reconciliation:
    """Every silver event is counted once, and its exact cost summed once."""
    return Reconciliation("silver/usage_events", (
        Measure("events", "coalesce(sum(event_count), 0)", "count(1)"),
        Measure("cost", f"sum({cost_column})", EXACT_COST),
    ), label="events, exact cost", counts_source=counts_source)


def _invoices_law(counts_source: str | None = None) -> Reconciliation:
    return Reconciliation("silver/billing_monthly", (
        Measure("invoices", "coalesce(sum(invoice_count), 0)", "count(1)"),
        Measure("total_usd", "coalesce(sum(total_usd), 0)", f"coalesce(sum(try_cast(total_usd AS {MONEY})), 0)"),
    ), label="invoices, total USD", counts_source=counts_source)


def _snapshot_law(table: str, records: str) -> Reconciliation:
    """The summary of silver ``table``'s newest snapshot covers each of its records once."""
    return Reconciliation(f"silver/{table}", (Measure("records", records, "count(1)"),), scope="latest_snapshot",
                          own_scope="reference_snapshot", label=f"{table} records", counts_source=table)


# -- the marts ------------------------------------------------------------------------------------------------

def _mart(name: str, columns, key: tuple[str, ...], partitions: str | None, partition_column: str | None,
          deps: tuple[Dep, ...], build, description: str, grain: str, checks: tuple[Check, ...] = (),
          **more) -> TableSpec:
    """A gold mart (partitions None: rebuilt whole): every mart also checks that its counts are
    not negative."""
    return TableSpec(layer="gold", name=name, description=description, grain=grain, columns=tuple(columns),
                     key=key, partitions=partitions, partition_column=partition_column, deps=deps, build=build,
                     checks=(NO_NEGATIVE_COUNTS, *checks), **more)


def _customer_360(i: Inputs):
    return per_day(i, lambda day: customer_360.customer_360(
        i.silver("customers_orgs"), i.silver("usage_events"), i.silver("billing_monthly"),
        i.silver("support_tickets"), i.silver("nps_surveys"), i.silver("marketing_touches"), i.silver("resources"),
        as_of=day))


BILLING = Dep("silver/billing_monthly")
LATEST = "last"  # reference data: the newest partition of the upstream table, whatever the window
COST_USD = (("cost USD", "sum(daily_cost_usd)"),)
REVENUE_USD = (("revenue USD", "sum(total_usd)"),)

GOLD_MARTS: tuple[TableSpec, ...] = (
    _mart("org_daily_usage_by_service", C.ORG_DAILY_USAGE_BY_SERVICE, ("org_id", "usage_date", "service"),
          "events_daily", "usage_date", (EVENTS,), lambda i: usage.org_daily_usage_by_service(i.events()),
          "Daily cost, requests, metrics, anomaly and negative-cost counts per org and service (q1, q2).",
          "one org, UTC day and service with at least one event", checks=(COST_RECONCILES,),
          reconciliations=(_events_law("daily_cost_usd_exact", counts_source="usage_events"),), summary=COST_USD),
    _mart("genai_tokens_by_org_date", C.GENAI_TOKENS_BY_ORG_DATE, ("org_id", "date"), "events_daily", "date",
          (EVENTS,), lambda i: product.genai_tokens_by_org_date(i.events()),
          "GenAI tokens, events, estimated and recorded cost per org and day (q5).",
          "one org and UTC day with at least one genai event",
          reconciliations=(Reconciliation("silver/usage_events", (
              Measure("events", "coalesce(sum(genai_event_count), 0)", "count(1)"),
              Measure("tokens", "sum(genai_tokens)", "sum(genai_tokens)"),
              Measure("cost", "sum(recorded_cost_usd_exact)", EXACT_COST),
          ), where="service = 'genai'", label="genai events, tokens, exact recorded cost"),),
          summary=(("tokens", "sum(genai_tokens)"),)),
    _mart("usage_hourly_by_service_region", C.USAGE_HOURLY_BY_SERVICE_REGION, ("event_hour", "service", "region"),
          "events_daily", "usage_date", (EVENTS,), lambda i: usage.usage_hourly_by_service_region(i.events()),
          "Hourly usage and cost by service and region.", "one UTC hour, service and region",
          reconciliations=(_events_law("cost_usd_exact"),)),
    _mart("usage_daily_by_service_region", C.USAGE_DAILY_BY_SERVICE_REGION, ("usage_date", "service", "region"),
          "events_daily", "usage_date", (EVENTS,), lambda i: usage.usage_daily_by_service_region(i.events()),
          "Daily usage, cost and carbon by service and region (carbon not measured on v1-only days).",
          "one UTC day, service and region",
          reconciliations=(_events_law("cost_usd_exact"),), summary=(("cost USD", "sum(cost_usd)"),)),
    _mart("cost_anomaly_mart", C.COST_ANOMALY_MART, ("org_id", "date", "service"), "events_daily", "date",
          (Dep("gold/org_daily_usage_by_service"),),
          lambda i: anomalies.cost_anomaly_mart(
              anomalies.daily_costs_from_usage_mart(i.gold("org_daily_usage_by_service")), (i.start, i.end)),
          "Daily cost per org and service against its baseline, scored by three methods.",
          "one org, UTC day and service with a daily cost, scored against its whole history",
          reconciliations=(Reconciliation("gold/org_daily_usage_by_service", (
              Measure("rows", "count(1)", "count(1)"),
              Measure("cost", "sum(daily_cost_usd_exact)", "sum(daily_cost_usd_exact)"),
          ), label="rows, exact cost"),),
          summary=(("{} anomalies", "count_if(is_anomaly)"),)),
    _mart("customer_360", C.CUSTOMER_360, ("org_id", "as_of_date"), "events_daily", "as_of_date",
          (EVENTS, *[Dep(f"silver/{t}", LATEST) for t in
                     ("customers_orgs", "support_tickets", "nps_surveys", "marketing_touches", "billing_monthly",
                      "resources")]),
          _customer_360,
          "One row per org as of a day: usage, spend, active resources, billing, tickets, NPS, marketing, "
          "health score.",
          "one org (of the latest orgs snapshot) as of one day", checks=(HEALTH_RANGE,),
          reconciliations=(Reconciliation("silver/customers_orgs", (Measure("records", "count(1)", "count(1)"),),
                                          scope="latest_snapshot", own_scope="newest", label="orgs",
                                          counts_source="customers_orgs"),),
          summary=tuple((band, f"count_if(risk_band = '{band}')") for band in ("healthy", "watch", "at_risk"))),
    _mart("revenue_by_org_month", C.REVENUE_BY_ORG_MONTH, ("org_id", "month"), "billing_monthly", "month",
          (BILLING,), lambda i: finance.revenue_by_org_month(i.silver("billing_monthly")),
          "Revenue per org and month in USD and original currency, FX rate applied (q4).",
          "one org and invoice month",
          reconciliations=(_invoices_law(counts_source="billing_monthly"),), summary=REVENUE_USD),
    _mart("revenue_trend_monthly", C.REVENUE_TREND_MONTHLY, ("month",), "billing_monthly", "month", (BILLING,),
          lambda i: finance.revenue_trend_monthly(i.silver("billing_monthly")),
          "Monthly revenue totals and month-over-month growth.", "one invoice month (all orgs)",
          reconciliations=(_invoices_law(),), summary=REVENUE_USD),
    _mart("credit_impact", C.CREDIT_IMPACT, ("month", "org_id"), "billing_monthly", "month", (BILLING,),
          lambda i: finance.credit_impact(i.silver("billing_monthly")),
          "Credits as a share of subtotal per org and month.", "one invoice month and org"),
    _mart("cost_vs_billing_reconciliation", C.COST_VS_BILLING_RECONCILIATION, ("org_id", "month"),
          "billing_monthly", "month", (BILLING, EVENTS),
          lambda i: finance.cost_vs_billing_reconciliation(i.silver("usage_events"), i.silver("billing_monthly")),
          "Usage cost from events against the invoiced amount per org and month.",
          "one org and month with usage, an invoice or both"),
    _mart("tickets_by_org_date", C.TICKETS_BY_ORG_DATE, ("org_id", "date", "severity"), None, None,
          (Dep("silver/support_tickets", LATEST),),
          lambda i: support.tickets_by_org_date(i.silver("support_tickets")),
          "Tickets opened, resolved, backlog, critical, SLA breach rate, valid CSAT per org, day, severity (q3).",
          "one org, day and severity on which a ticket was opened or resolved",
          # Rebuilt from the newest tickets snapshot: every ticket of it is opened on one day.
          reconciliations=(Reconciliation("silver/support_tickets", (
              Measure("records", "coalesce(sum(opened), 0)", "count(1)"),), scope="latest_snapshot", own_scope="all",
              label="tickets opened", counts_source="support_tickets"),),
          summary=(("tickets", "sum(opened)"),)),
    _mart("ticket_resolution_metrics", (*C.TICKET_RESOLUTION_METRICS, C.SNAPSHOT_DATE), ("severity", "category"),
          "snapshot_daily", "snapshot_date", (Dep("silver/support_tickets"),),
          snapshot_summary(lambda i, d: support.ticket_resolution_metrics(i.silver("support_tickets"), d)),
          "Median / p90 resolution hours by severity and category, per snapshot.",
          "one severity and category, per snapshot"),
    _mart("resource_utilization", (*C.RESOURCE_UTILIZATION, C.SNAPSHOT_DATE), ("resource_id",), "snapshot_daily",
          "snapshot_date", (Dep("silver/resources"), EVENTS),
          snapshot_summary(lambda i, d: usage.resource_utilization(i.silver("resources"), i.silver("usage_events"),
                                                                   d)),
          "Usage per resource and idle running resources, per snapshot.",
          "one resource (in the snapshot's inventory or seen in events), per snapshot",
          reconciliations=(_snapshot_law("resources", "count_if(in_inventory)"),)),
    _mart("user_activity", C.USER_ACTIVITY, ("org_id",), "snapshot_daily", "snapshot_date", (Dep("silver/users"),),
          snapshot_summary(lambda i, d: product.user_activity(i.silver("users"), d)),
          "Users, active users and logins per org, per snapshot.", "one org, per snapshot",
          reconciliations=(_snapshot_law("users", "coalesce(sum(users), 0)"),)),
    _mart("campaign_effectiveness", (*C.CAMPAIGN_EFFECTIVENESS, C.SNAPSHOT_DATE), ("campaign", "channel"),
          "snapshot_daily", "snapshot_date", (Dep("silver/marketing_touches"),),
          snapshot_summary(lambda i, d: product.campaign_effectiveness(i.silver("marketing_touches"), d)),
          "Touches, click and conversion rates per campaign and channel, per snapshot.",
          "one campaign and channel, per snapshot",
          reconciliations=(_snapshot_law("marketing_touches", "coalesce(sum(touches), 0)"),)),
)

COST_BASELINES = TableSpec(
    layer="gold", name="cost_baselines",
    description="Per org and service (and per service over all orgs, org_id '*'): median, MAD and p99 of event "
                "costs over every silver event. The speed layer's alerts score new events against it. "
                "Unpartitioned, rebuilt whole: every baseline is learned from every silver event.",
    grain="one org and service with a costed event, plus one per service over all orgs (org_id '*')",
    columns=C.COST_BASELINES, key=("org_id", "service"), deps=(Dep("silver/usage_events", "all"),),
    build=lambda i: baselines.cost_baselines(i.silver("usage_events")),
    # size(collect_set(...)): a distinct count the write can observe (DISTINCT aggregates it cannot).
    summary=(("orgs", f"size(collect_set(CASE WHEN org_id != '{baselines.ALL_ORGS}' THEN org_id END))"),),
)

GOLD_SPECS: tuple[TableSpec, ...] = (*GOLD_MARTS, COST_BASELINES)
GOLD_BY_NAME = by_name(GOLD_SPECS)
