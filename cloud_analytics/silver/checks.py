"""Silver checks: conservation against bronze, quarantine rate, keys, declared schema, SCD2 shape."""

from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, AssetKey, MetadataValue
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from cloud_analytics.bronze.checks import key_not_null
from cloud_analytics.silver.schemas import SILVER_COLUMNS

CONSERVATION = "conservation"
QUARANTINE_RATE = "quarantine_rate"
KEY_NOT_NULL = "key_not_null"
SCHEMA = "schema_matches"
ONE_CURRENT = "one_current_version"
NO_OVERLAP = "versions_do_not_overlap"


def specs(key: AssetKey) -> list[AssetCheckSpec]:
    return [
        AssetCheckSpec(CONSERVATION, asset=key, blocking=True,
                       description="bronze rows = silver rows + quarantined rows, for the window"),
        AssetCheckSpec(QUARANTINE_RATE, asset=key,
                       description="quarantined share under CLOUD_ANALYTICS_MAX_QUARANTINE_RATE"),
        AssetCheckSpec(KEY_NOT_NULL, asset=key, blocking=True, description="key columns never null"),
        AssetCheckSpec(SCHEMA, asset=key, blocking=True, description="columns equal the declared schema"),
    ]


def conservation(key: AssetKey, bronze_rows: int, silver_rows: int, quarantined: int) -> AssetCheckResult:
    return AssetCheckResult(
        asset_key=key, check_name=CONSERVATION, passed=bronze_rows == silver_rows + quarantined,
        severity=AssetCheckSeverity.ERROR,
        metadata={"bronze_rows": bronze_rows, "silver_rows": silver_rows, "quarantined": quarantined,
                  "difference": bronze_rows - silver_rows - quarantined},
    )


def quarantine_rate(key: AssetKey, summary: dict, max_rate: float) -> AssetCheckResult:
    evaluated = summary["evaluated"] or 0
    rate = summary["quarantined"] / evaluated if evaluated else 0.0
    return AssetCheckResult(
        asset_key=key, check_name=QUARANTINE_RATE, passed=rate <= max_rate, severity=AssetCheckSeverity.WARN,
        metadata={"rate": MetadataValue.float(round(rate, 6)), "max_rate": MetadataValue.float(max_rate),
                  "quarantined": summary["quarantined"], "evaluated": evaluated},
    )


def schema_matches(key: AssetKey, df: DataFrame, table: str) -> AssetCheckResult:
    declared = SILVER_COLUMNS[table]
    actual = df.columns
    return AssetCheckResult(
        asset_key=key, check_name=SCHEMA, passed=actual == declared, severity=AssetCheckSeverity.ERROR,
        metadata={"missing": MetadataValue.json([c for c in declared if c not in actual]),
                  "unexpected": MetadataValue.json([c for c in actual if c not in declared])},
    )


def history_specs(key: AssetKey) -> list[AssetCheckSpec]:
    return [
        AssetCheckSpec(ONE_CURRENT, asset=key, blocking=True, description="at most one current version per key"),
        AssetCheckSpec(NO_OVERLAP, asset=key, blocking=True,
                       description="valid_from < valid_to, and a key's versions never overlap"),
        AssetCheckSpec(SCHEMA, asset=key, blocking=True, description="columns equal the declared schema"),
    ]


def history_checks(key: AssetKey, history: DataFrame, table: str) -> list[AssetCheckResult]:
    entity = history.columns[0]
    many_current = history.filter("is_current").groupBy(entity).count().filter("count > 1").count()
    from pyspark.sql import Window

    by_key = Window.partitionBy(entity).orderBy("valid_from")
    ordered = history.withColumn("_next_from", F.lead("valid_from").over(by_key))
    bad = ordered.filter((F.col("valid_from") >= F.col("valid_to"))
                         | (F.col("_next_from").isNotNull() & (F.col("_next_from") < F.col("valid_to")))).count()
    return [
        AssetCheckResult(asset_key=key, check_name=ONE_CURRENT, passed=many_current == 0,
                         severity=AssetCheckSeverity.ERROR, metadata={"keys_with_several_current": many_current}),
        AssetCheckResult(asset_key=key, check_name=NO_OVERLAP, passed=bad == 0,
                         severity=AssetCheckSeverity.ERROR, metadata={"bad_versions": bad}),
        schema_matches(key, history, table),
    ]


__all__ = ["conservation", "quarantine_rate", "key_not_null", "schema_matches", "specs",
           "history_specs", "history_checks"]
