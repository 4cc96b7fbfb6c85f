"""The generic asset checks every table gets from its spec, and the adapters that turn a
spec's Dagster-free parts into Dagster objects (asset key, deps with partition mappings,
``Check`` into ``AssetCheckSpec`` / ``AssetCheckResult``).

Check names are constants so that jobs, tests and the UI agree on them.
"""

from __future__ import annotations

from dagster import (
    AllPartitionMapping,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetDep,
    AssetKey,
    LastPartitionMapping,
    MetadataValue,
)
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from cloud_analytics.lib.spec import Check, CheckInput, TableSpec

RECONCILIATION = "row_reconciliation"
KEY_NOT_NULL = "key_not_null"
KEY_UNIQUE = "key_unique"
SCHEMA = "schema_matches"

_SEVERITY = {"ERROR": AssetCheckSeverity.ERROR, "WARN": AssetCheckSeverity.WARN}


_MAPPINGS = {"same": None, "last": LastPartitionMapping(), "all": AllPartitionMapping()}


def asset_key(spec: TableSpec) -> AssetKey:
    return AssetKey(spec.key_path)


def asset_deps(spec: TableSpec) -> list[AssetDep]:
    """The spec's upstream tables as Dagster deps, with their partition mappings."""
    return [AssetDep(AssetKey(dep.table.split("/")), partition_mapping=_MAPPINGS[dep.mapping]) for dep in spec.deps]


def reconciliation(key: AssetKey, landed_in_window: int, bronze_rows: int, rejects: int,
                   duplicates: int) -> AssetCheckResult:
    """landing rows = bronze rows + rejects + duplicates removed (for the window checked)."""
    balance = bronze_rows + rejects + duplicates
    return AssetCheckResult(
        asset_key=key, check_name=RECONCILIATION, passed=landed_in_window == balance,
        severity=AssetCheckSeverity.ERROR,
        metadata={"landing_rows": landed_in_window, "bronze_rows": bronze_rows, "rejects": rejects,
                  "duplicates_removed": duplicates, "difference": landed_in_window - balance},
    )


def key_not_null(key: AssetKey, rows: DataFrame, columns: tuple[str, ...] | list[str]) -> AssetCheckResult:
    condition = " OR ".join(f"`{c}` IS NULL" for c in columns)
    nulls = rows.filter(condition).count()
    return AssetCheckResult(asset_key=key, check_name=KEY_NOT_NULL, passed=nulls == 0,
                            severity=AssetCheckSeverity.ERROR,
                            metadata={"null_keys": nulls, "key": ", ".join(columns)})


def key_unique(key: AssetKey, rows: DataFrame, columns: tuple[str, ...] | list[str], per: tuple[str, ...] = (),
               severity: AssetCheckSeverity = AssetCheckSeverity.WARN) -> AssetCheckResult:
    """No key appears twice (within each ``per`` group, e.g. a snapshot day)."""
    group = [*per, *columns]
    dupes = rows.groupBy(*group).count().filter("count > 1")
    stats = dupes.agg(F.count(F.lit(1)).alias("keys"), F.sum("count").alias("rows")).first()
    keys = int(stats["keys"] or 0)
    sample = [", ".join(str(r[c]) for c in columns) for r in dupes.limit(5).collect()] if keys else []
    return AssetCheckResult(
        asset_key=key, check_name=KEY_UNIQUE, passed=keys == 0, severity=severity,
        metadata={"duplicated_keys": keys, "rows_with_duplicated_keys": int(stats["rows"] or 0),
                  "sample": MetadataValue.text("; ".join(sample) or "none")},
    )


def schema_matches(key: AssetKey, df: DataFrame, declared: list[str]) -> AssetCheckResult:
    """The stored columns are exactly the declared ones, in order."""
    actual = df.columns
    return AssetCheckResult(
        asset_key=key, check_name=SCHEMA, passed=actual == declared, severity=AssetCheckSeverity.ERROR,
        metadata={"missing": MetadataValue.json([c for c in declared if c not in actual]),
                  "unexpected": MetadataValue.json([c for c in actual if c not in declared])},
    )


def check_spec(key: AssetKey, check: Check) -> AssetCheckSpec:
    return AssetCheckSpec(check.name, asset=key, blocking=check.blocking, description=check.description)


def check_result(key: AssetKey, check: Check, given: CheckInput) -> AssetCheckResult:
    outcome = check.evaluate(given)
    return AssetCheckResult(asset_key=key, check_name=check.name, passed=bool(outcome.passed),
                            severity=_SEVERITY[check.severity], metadata=dict(outcome.metadata))
