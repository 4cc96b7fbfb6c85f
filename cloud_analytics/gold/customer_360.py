"""Customer 360: one row per org (latest orgs snapshot) as of a date, joining usage, resources,
billing, support, NPS and marketing, with a health score and a risk band.

``as_of_date`` = the ``as_of`` argument, else the last event date of the usage data (the data's
"today"). Only facts dated on or before it count; snapshot tables use their latest snapshot
(or ``snapshot``), whose dates place each fact in time. ``active_resources``: the org's
resources in that resources snapshot that are running or stopped (not terminated) and were
created on or before as_of_date (or have no created_at); the snapshot does not date a
termination, so a resource terminated after as_of_date does not count.

Health score (0–100), computed from behaviour only (never from ``lifecycle_stage``, the label
it is checked against; docs/health-score.md has the measurements behind every choice)::

    health_score = Σ WEIGHTS[c] × component_c        (rounded to 0.1; weights sum to 1)

each component clamped to 0..100, and a component whose input is missing (null) counts as a
neutral ``NEUTRAL`` = 50 (as much good as bad evidence):

- usage      = 50 + 50 × (cost_last_30d − cost_prev_30d) / cost_prev_30d: the spend trend
               (flat 50, doubled 100, stopped 0). Without positive spend in the previous 30 days:
               100 when there is spend in the last 30 (spend started), 0 when there is none but
               the org had events before (no positive spend in 60 days: idle, or only credits), null when
               it never had an event.
- support    = 100 − 400 × sla_breach_rate − 25 × open_critical_tickets (SLA breached on a
               quarter of the tickets → 0; null when the org never opened a ticket). Open
               tickets of other severities do not count: their number grows with usage.
- csat       = 25 × (mean valid CSAT − 1)          (1 → 0, 5 → 100; null without a valid score)
- nps        = (NPS + 100) / 2, NPS = the latest in-range survey score, else the org's in-range
               master-data nps_score                (−100 → 0, 100 → 100)
- billing    = 100 − 200 × credit_share − 25 × credit_notes, credit_share = credits_usd /
               subtotal_usd over the org's positive invoices (null without invoices)
- engagement = 500 × conversions / touches: marketing touches the org converted on (one in
               five or more → 100, none → 0; null without touches)

Weights: usage 0.30, support 0.20, csat 0.20, nps 0.10, billing 0.10, engagement 0.10. Usage is
what a leaving customer stops first; support (SLA breaches) and CSAT are the service the
customer experienced and its own verdict on it, and the two signals that best tell active
from at-risk and churned orgs on the default data; NPS, billing and engagement are kept small:
NPS is sparse and did not separate the stages, billing credits are rare (the component is near
100 for most orgs, so its weight mostly lifts every score), and marketing is a weak proxy.
``risk_band``: ``healthy`` when health_score ≥ 70, ``watch`` when ≥ 50, else ``at_risk``: below
the neutral 50 the evidence is on balance bad; an org without any facts is ``watch``.
"""

from __future__ import annotations

import math
from datetime import date

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from cloud_analytics.gold import columns as C
from cloud_analytics.gold.common import (
    EXACT,
    MONEY,
    cents,
    contract,
    count_if,
    latest_snapshot,
    ratio,
    sum_exact,
    sum_money,
)

WEIGHTS = {"usage": 0.30, "support": 0.20, "csat": 0.20, "nps": 0.10, "billing": 0.10, "engagement": 0.10}
NEUTRAL = 50.0
HEALTHY_MIN, WATCH_MIN = 70.0, 50.0
RECENT_DAYS = 30
SLA_BREACH_PENALTY, OPEN_CRITICAL_PENALTY = 400.0, 25.0
CREDIT_SHARE_PENALTY, CREDIT_NOTE_PENALTY = 200.0, 25.0
CONVERSION_RATE_SCALE = 500.0  # 100 at a conversion rate of 1 in 5
ACTIVE_STATES = ("running", "stopped")
COMPONENTS = [f"{name}_component" for name in WEIGHTS]
COUNTS = ("event_count", "invoice_count", "credit_notes", "tickets_total", "open_tickets", "open_critical_tickets",
          "touches", "conversions", "active_resources")
AMOUNTS_ZERO = ("cost_total_usd", "cost_last_30d_usd", "cost_prev_30d_usd", "revenue_total_usd")
assert math.isclose(sum(WEIGHTS.values()), 1.0), "health-score weights must sum to 1"


def clamp(x: Column, low: float = 0.0, high: float = 100.0) -> Column:
    """x limited to low..high; null stays null (greatest/least alone would turn it into low)."""
    return F.when(x.isNotNull(), F.least(F.greatest(x.try_cast("double"), F.lit(low)), F.lit(high)))


def health_components(df: DataFrame) -> DataFrame:
    """Add the six ``*_component`` columns (0..100 or null) from the 360's metric columns."""
    last, prev = F.col("cost_last_30d_usd"), F.col("cost_prev_30d_usd")
    usage = (F.when(prev > 0, 50 + 50 * ratio(last - prev, prev))
             .when(last > 0, F.lit(100.0))  # spend started: growth from nothing
             .when(F.col("event_count") > 0, F.lit(0.0)))  # used before, no positive spend in 60 days
    support = (100 - SLA_BREACH_PENALTY * F.coalesce(F.col("sla_breach_rate"), F.lit(0.0))
               - OPEN_CRITICAL_PENALTY * F.col("open_critical_tickets"))
    nps = F.coalesce(F.col("latest_nps_score"), F.when(F.col("org_nps_in_range"), F.col("org_nps_score")))
    share = ratio(F.col("positive_credits_usd"), F.col("positive_subtotal_usd"))
    billing = (100 - CREDIT_SHARE_PENALTY * F.coalesce(share, F.lit(0.0))
               - CREDIT_NOTE_PENALTY * F.col("credit_notes"))
    return df.withColumns({
        "usage_component": clamp(usage),
        "support_component": clamp(F.when(F.col("tickets_total") > 0, support)),
        "csat_component": clamp(25 * (F.col("mean_csat") - 1)),
        "nps_component": clamp((nps + 100) / 2),
        "billing_component": clamp(F.when(F.col("invoice_count") > 0, billing)),
        "engagement_component": clamp(CONVERSION_RATE_SCALE * ratio(F.col("conversions"), F.col("touches"))),
    })


def add_health_score(df: DataFrame) -> DataFrame:
    """Add ``health_score`` (weighted components, null → NEUTRAL, rounded to 0.1) and ``risk_band``."""
    total = sum(F.lit(w) * F.coalesce(clamp(F.col(f"{n}_component")), F.lit(NEUTRAL))
                for n, w in WEIGHTS.items())
    scored = df.withColumn("health_score", F.round(total, 1))
    return scored.withColumn("risk_band", F.when(F.col("health_score") >= HEALTHY_MIN, "healthy")
                             .when(F.col("health_score") >= WATCH_MIN, "watch").otherwise("at_risk"))


def _dated(df: DataFrame, col: str, as_of: DataFrame) -> DataFrame:
    return df.crossJoin(F.broadcast(as_of)).filter(F.col(col) <= F.col("as_of_date"))


def _cost_aged(low: int, high: int) -> Column:
    """Exact cost of the events ``low`` ≤ age < ``high`` days before the as-of date (0 if none)."""
    age = F.date_diff(F.col("as_of_date"), F.col("event_date"))  # 0 on the as-of day
    cost = F.when((age >= low) & (age < high), F.col("cost_usd_increment"))
    return F.coalesce(sum_exact(cost), F.lit(0).try_cast(EXACT))


def _usage(events: DataFrame, as_of: DataFrame) -> DataFrame:
    return _dated(events, "event_date", as_of).groupBy("org_id").agg(
        sum_exact("cost_usd_increment").alias("cost_total_usd_exact"),
        _cost_aged(0, RECENT_DAYS).alias("_last"),
        _cost_aged(RECENT_DAYS, 2 * RECENT_DAYS).alias("_prev"),
        F.count(F.lit(1)).alias("event_count"),
        F.max("event_date").alias("last_event_date"),
    ).select("org_id", "event_count", "last_event_date", "cost_total_usd_exact",
             cents(F.col("cost_total_usd_exact")).alias("cost_total_usd"),
             cents(F.col("_last")).alias("cost_last_30d_usd"), cents(F.col("_prev")).alias("cost_prev_30d_usd"))


def _billing(billing: DataFrame, as_of: DataFrame) -> DataFrame:
    b = _dated(billing, "month", as_of).withColumn(
        "_last_month", F.max("month").over(Window.partitionBy("org_id")))
    positive = F.col("subtotal_usd") > 0
    return b.groupBy("org_id").agg(
        sum_money("total_usd").alias("revenue_total_usd"),
        F.max("month").alias("last_invoice_month"),
        sum_money(F.when(F.col("month") == F.col("_last_month"), F.col("total_usd")))
        .alias("last_month_total_usd"),
        F.count(F.lit(1)).alias("invoice_count"),
        count_if(F.col("subtotal_usd") < 0).alias("credit_notes"),
        sum_money(F.when(positive, F.col("credits_usd"))).alias("positive_credits_usd"),
        sum_money(F.when(positive, F.col("subtotal_usd"))).alias("positive_subtotal_usd"),
    )


def _tickets(tickets: DataFrame, as_of: DataFrame, snapshot: date | None) -> DataFrame:
    t = _dated(latest_snapshot(tickets, snapshot), "created_at", as_of)
    is_open = F.col("resolved_at").isNull() | (F.col("resolved_at") > F.col("as_of_date"))
    valid = F.col("csat_valid") & (F.col("resolved_at") <= F.col("as_of_date"))
    return t.groupBy("org_id").agg(
        F.count(F.lit(1)).alias("tickets_total"),
        count_if(is_open).alias("open_tickets"),
        count_if(is_open & (F.col("severity") == "critical")).alias("open_critical_tickets"),
        ratio(count_if(F.col("sla_breached")), F.count(F.lit(1))).alias("sla_breach_rate"),
        F.avg(F.when(valid, F.col("csat"))).alias("mean_csat"),
    )


def _nps(surveys: DataFrame, as_of: DataFrame, snapshot: date | None) -> DataFrame:
    s = _dated(latest_snapshot(surveys, snapshot), "survey_date", as_of).filter(
        F.col("nps_score").isNotNull() & F.coalesce(F.col("nps_in_range"), F.lit(False)))
    newest_first = Window.partitionBy("org_id").orderBy(F.col("survey_date").desc())
    ranked = s.withColumn("_n", F.row_number().over(newest_first))
    latest = ranked.filter("_n = 1").select("org_id", F.col("survey_date").alias("latest_survey_date"),
                                            F.col("nps_score").alias("latest_nps_score"))
    previous = ranked.filter("_n = 2").select("org_id", F.col("nps_score").alias("previous_nps_score"))
    return latest.join(previous, "org_id", "left").withColumn(
        "nps_delta", F.col("latest_nps_score") - F.col("previous_nps_score"))


def _marketing(touches: DataFrame, as_of: DataFrame, snapshot: date | None) -> DataFrame:
    return _dated(latest_snapshot(touches, snapshot), "touch_date", as_of).groupBy("org_id").agg(
        F.count(F.lit(1)).alias("touches"), count_if(F.col("converted")).alias("conversions"))


def _resources(resources: DataFrame, as_of: DataFrame, snapshot: date | None) -> DataFrame:
    r = latest_snapshot(resources, snapshot).crossJoin(F.broadcast(as_of))
    exists = F.col("state").isin(*ACTIVE_STATES) & (
        F.col("created_at").isNull() | (F.col("created_at") <= F.col("as_of_date")))
    return r.groupBy("org_id").agg(count_if(exists).alias("active_resources"))


def customer_360(orgs: DataFrame, events: DataFrame, billing: DataFrame, tickets: DataFrame,
                 surveys: DataFrame, touches: DataFrame, resources: DataFrame, as_of: date | None = None,
                 snapshot: date | None = None) -> DataFrame:
    """Silver customers_orgs, usage_events, billing_monthly, support_tickets, nps_surveys,
    marketing_touches and resources → ``customer_360`` (key org_id, as_of_date)."""
    if as_of is not None:
        as_of_frame = orgs.sparkSession.range(1).select(F.lit(as_of).alias("as_of_date"))
    else:
        as_of_frame = events.agg(F.max("event_date").alias("as_of_date"))
    base = latest_snapshot(orgs, snapshot).select(
        "org_id", "org_name", "plan_tier", "industry", "lifecycle_stage",
        F.col("nps_score").alias("org_nps_score"), F.col("nps_in_range").alias("org_nps_in_range"))
    df = base.crossJoin(F.broadcast(as_of_frame))
    for part in (_usage(events, as_of_frame), _billing(billing, as_of_frame),
                 _tickets(tickets, as_of_frame, snapshot), _nps(surveys, as_of_frame, snapshot),
                 _marketing(touches, as_of_frame, snapshot), _resources(resources, as_of_frame, snapshot)):
        df = df.join(part, "org_id", "left")
    # An org without facts of a kind has zero of them (counts, money), not "unknown".
    zero = {c: F.coalesce(F.col(c), F.lit(0).try_cast("bigint")) for c in COUNTS}
    zero.update({c: F.coalesce(F.col(c), F.lit(0).try_cast(MONEY)) for c in AMOUNTS_ZERO})
    zero["cost_total_usd_exact"] = F.coalesce(F.col("cost_total_usd_exact"), F.lit(0).try_cast(EXACT))
    df = df.withColumns(zero)
    return contract(add_health_score(health_components(df)), C.CUSTOMER_360)
