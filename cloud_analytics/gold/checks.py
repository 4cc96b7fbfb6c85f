"""Gold checks: primary key unique, no negative counts, declared columns, and per mart the
reconciliation with silver (cost to the cent) or the health-score range."""

from datetime import date

from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, AssetKey, MetadataValue
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from cloud_analytics.bronze.checks import key_unique
from cloud_analytics.delta_io import date_window_predicate
from cloud_analytics.gold.schemas import GOLD_KEYS, GOLD_PARTITION

KEY_UNIQUE = "key_unique"
NO_NEGATIVE_COUNTS = "no_negative_counts"
SCHEMA = "schema_matches"
RECONCILES = "cost_reconciles_with_silver"
HEALTH_RANGE = "health_score_in_range"
COUNT_TYPES = ("bigint", "int", "smallint")


def specs(key: AssetKey, mart: str) -> list[AssetCheckSpec]:
    out = [
        AssetCheckSpec(KEY_UNIQUE, asset=key, blocking=True, description="primary key unique"),
        AssetCheckSpec(NO_NEGATIVE_COUNTS, asset=key, blocking=True, description="integer counts >= 0"),
        AssetCheckSpec(SCHEMA, asset=key, blocking=True, description="columns equal the declared contract"),
    ]
    if mart == "org_daily_usage_by_service":
        out.append(AssetCheckSpec(RECONCILES, asset=key, blocking=True,
                                  description="per day, sum of daily cost = silver cost sum, exact to the cent"))
    if mart == "customer_360":
        out.append(AssetCheckSpec(HEALTH_RANGE, asset=key, blocking=True, description="health_score within 0..100"))
    return out


def _keys(mart: str) -> list[str]:
    keys = list(GOLD_KEYS[mart])
    partition = GOLD_PARTITION.get(mart) or "snapshot_date"
    return keys if partition in keys else [partition, *keys]


def no_negative_counts(key: AssetKey, df: DataFrame) -> AssetCheckResult:
    counts = [f.name for f in df.schema.fields if f.dataType.simpleString() in COUNT_TYPES]
    bad = df.filter(" OR ".join(f"`{c}` < 0" for c in counts)).count() if counts else 0
    return AssetCheckResult(asset_key=key, check_name=NO_NEGATIVE_COUNTS, passed=bad == 0,
                            severity=AssetCheckSeverity.ERROR,
                            metadata={"rows_with_negative_counts": bad, "count_columns": len(counts)})


def schema_matches(key: AssetKey, df: DataFrame, declared: list[str]) -> AssetCheckResult:
    return AssetCheckResult(
        asset_key=key, check_name=SCHEMA, passed=df.columns == declared, severity=AssetCheckSeverity.ERROR,
        metadata={"missing": MetadataValue.json([c for c in declared if c not in df.columns]),
                  "unexpected": MetadataValue.json([c for c in df.columns if c not in declared])},
    )


def cost_reconciles(key: AssetKey, mart: DataFrame, spark: SparkSession, lake, start: date, end: date):
    """Per day: the mart's exact cost sum equals silver's, and so do the sums in cents."""
    silver = (spark.read.format("delta").load(lake.table("silver", "usage_events"))
              .filter(date_window_predicate("event_date", start, end))
              .groupBy(F.col("event_date").alias("d"))
              .agg(F.sum(F.col("cost_usd_increment").try_cast("decimal(18,6)")).alias("silver")))
    gold = mart.groupBy(F.col("usage_date").alias("d")).agg(F.sum("daily_cost_usd_exact").alias("gold"))
    joined = silver.join(gold, "d", "full")
    bad = joined.filter(F.round(F.coalesce("silver", F.lit(0)), 2) != F.round(F.coalesce("gold", F.lit(0)), 2))
    mismatches = bad.count()
    totals = joined.agg(F.sum("silver").alias("s"), F.sum("gold").alias("g")).first()
    return AssetCheckResult(
        asset_key=key, check_name=RECONCILES, passed=mismatches == 0, severity=AssetCheckSeverity.ERROR,
        metadata={"days_not_reconciled": mismatches, "silver_cost_usd": str(totals["s"]),
                  "gold_cost_usd": str(totals["g"])},
    )


def health_range(key: AssetKey, df: DataFrame) -> AssetCheckResult:
    bad = df.filter("health_score IS NULL OR health_score < 0 OR health_score > 100").count()
    return AssetCheckResult(asset_key=key, check_name=HEALTH_RANGE, passed=bad == 0,
                            severity=AssetCheckSeverity.ERROR, metadata={"rows_out_of_range": bad})


def evaluate(key: AssetKey, mart: str, df: DataFrame, declared: list[str], spark: SparkSession, lake,
             start: date, end: date) -> list[AssetCheckResult]:
    results = [
        key_unique(key, df, tuple(_keys(mart)), severity=AssetCheckSeverity.ERROR),
        no_negative_counts(key, df),
        schema_matches(key, df, declared),
    ]
    if mart == "org_daily_usage_by_service":
        results.append(cost_reconciles(key, df, spark, lake, start, end))
    if mart == "customer_360":
        results.append(health_range(key, df))
    return results


def summary(mart: str, df: DataFrame, rows: int) -> str:
    """One line for the run summary: rows and a key total."""
    totals = {
        "org_daily_usage_by_service": ("daily_cost_usd", "cost USD"),
        "revenue_by_org_month": ("total_usd", "revenue USD"),
        "revenue_trend_monthly": ("total_usd", "revenue USD"),
        "genai_tokens_by_org_date": ("genai_tokens", "tokens"),
        "tickets_by_org_date": ("opened", "tickets"),
        "cost_anomaly_mart": ("anomaly_votes", "method votes"),
        "usage_daily_by_service_region": ("cost_usd", "cost USD"),
    }
    if mart == "customer_360":
        bands = {r[0]: r[1] for r in df.groupBy("risk_band").count().collect()}
        return f"{rows:,} rows, risk bands {dict(sorted(bands.items()))}"
    if mart == "cost_anomaly_mart":
        return f"{rows:,} rows, {df.filter('is_anomaly').count():,} anomalies"
    if mart in totals:
        col, label = totals[mart]
        value = df.agg(F.sum(col)).first()[0] or 0
        return f"{rows:,} rows, {label} {value:,.2f}" if not isinstance(value, int) else f"{rows:,} rows, {label} {value:,}"
    return f"{rows:,} rows"
