"""Real-time enrichment and cost alerts of the speed layer.

An event is enriched with its org's current attributes (plan tier, industry, region) and its
resource's (state, created_at), then scored against the batch layer's baseline for its org
and service (built by the batch layer, ``gold/baselines.py``), falling back to the service's
baseline over all orgs (``ALL_ORGS``) when the org has fewer than ``MIN_EVENTS`` events. The score is the robust z-score used by silver (Iglewicz–Hoaglin,
the same threshold 3.5); an event with a score above it, and a cost above the baseline's p99,
becomes an alert with its reason. Requiring both keeps a long but ordinary tail quiet, as
silver does by requiring two methods to agree.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from cloud_analytics.silver.anomaly import MAD_SCALE, MAD_THRESHOLD, MEAN_AD_SCALE
from cloud_analytics.gold.baselines import ALL_ORGS

MIN_EVENTS = 20  # an org's own baseline is used from this many events on
ORG_COLUMNS = ("plan_tier", "industry", "hq_region")
RESOURCE_COLUMNS = {"state": "resource_state", "created_at": "resource_created_at"}


def enrich(events: DataFrame, orgs: DataFrame | None, resources: DataFrame | None) -> DataFrame:
    """Add the org's and resource's current attributes (null when the dimension is unknown)."""
    out = events
    if orgs is not None:
        out = out.join(F.broadcast(orgs.select("org_id", *ORG_COLUMNS).dropDuplicates(["org_id"])), "org_id", "left")
    else:
        out = out.withColumns({c: F.lit(None).cast("string") for c in ORG_COLUMNS})
    if resources is not None:
        res = resources.select("resource_id", *[F.col(k).alias(v) for k, v in RESOURCE_COLUMNS.items()])
        out = out.join(F.broadcast(res.dropDuplicates(["resource_id"])), "resource_id", "left")
    else:
        out = out.withColumns({"resource_state": F.lit(None).cast("string"),
                               "resource_created_at": F.lit(None).cast("date")})
    return out


def score(events: DataFrame, baselines: DataFrame) -> DataFrame:
    """Robust z-score of each event's cost against its org/service (or service) baseline."""
    b = baselines.select("org_id", "service", "events", "median_cost", "mad_cost", "mean_abs_dev_cost", "p99_cost")
    own = b.filter(F.col("org_id") != ALL_ORGS).filter(F.col("events") >= MIN_EVENTS)
    shared = b.filter(F.col("org_id") == ALL_ORGS).drop("org_id")
    prefixed = lambda df, p: df.select(*[F.col(c).alias(f"{p}{c}") if c not in ("org_id", "service") else c
                                         for c in df.columns])
    joined = (events.join(F.broadcast(prefixed(own, "o_")), ["org_id", "service"], "left")
              .join(F.broadcast(prefixed(shared, "s_")), ["service"], "left"))
    use_own = F.col("o_median_cost").isNotNull()
    pick = lambda c: F.when(use_own, F.col(f"o_{c}")).otherwise(F.col(f"s_{c}"))
    median, mad, meanad, p99 = pick("median_cost"), pick("mad_cost"), pick("mean_abs_dev_cost"), pick("p99_cost")
    diff = F.col("cost_usd_increment") - median
    robust_z = (F.when(mad > 0, MAD_SCALE * diff / mad).when(meanad > 0, diff / (MEAN_AD_SCALE * meanad)))
    return (joined.withColumns({
        "baseline_median_usd": median, "baseline_p99_usd": p99, "robust_z": robust_z,
        "baseline_scope": F.when(use_own, F.lit("org_service")).when(median.isNotNull(), F.lit("service")),
    }).drop(*[c for c in joined.columns if c.startswith(("o_", "s_"))]))


def alerts(scored: DataFrame, stream_run: str, batch_id: int) -> DataFrame:
    """The scored events that break their baseline, as alert rows (the columns of ``speed/specs.USAGE_ALERTS``)."""
    fired = (F.col("robust_z") > MAD_THRESHOLD) & (F.col("cost_usd_increment") > F.col("baseline_p99_usd"))
    reason = F.format_string(
        "cost %.2f USD is %.1f robust-z above the %s median %.4f USD (threshold %.1f, above p99 %.4f)",
        F.col("cost_usd_increment"), F.col("robust_z"), F.col("baseline_scope"), F.col("baseline_median_usd"),
        F.lit(MAD_THRESHOLD), F.col("baseline_p99_usd"))
    return scored.filter(F.coalesce(fired, F.lit(False))).select(
        F.concat_ws(":", F.lit("cost"), "event_id").alias("alert_id"), "org_id", "event_id", "event_ts", "event_date",
        "service", "resource_id", F.col("cost_usd_increment").alias("cost_usd"), "baseline_median_usd",
        "baseline_scope", "robust_z", F.lit(MAD_THRESHOLD).alias("threshold"), reason.alias("reason"),
        *ORG_COLUMNS, "resource_state", F.lit(stream_run).alias("stream_run"),
        F.lit(batch_id).cast("bigint").alias("batch_id"), F.col("event_date").alias("alert_date"))
