"""Bronze data-quality checks, computed independently of the ingest code they guard.

Landing counts come from Python's csv module (CSV) or a plain Spark text read of the files
the ledger lists (events), never from the numbers the ingest reported about itself.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

from dagster import AssetCheckResult, AssetCheckSeverity, AssetKey, MetadataValue
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from cloud_analytics.bronze.schemas import CsvSource

RECONCILIATION = "row_reconciliation"
KEY_NOT_NULL = "key_not_null"
KEY_UNIQUE = "key_unique"


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def landing_rows_in_window(path: Path, source: CsvSource, window: tuple[date, date]) -> int:
    """Records of the landing file that belong to the window, by the csv module alone."""
    if not path.is_file() or path.stat().st_size == 0:
        return 0
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as handle:
        reader = csv.reader(handle)
        header = next(reader, None) or []
        rows = [r for r in reader if r]
    if source.partitioning == "snapshot":
        return len(rows) * len(_days(*window))
    col = header.index(source.partitioning) if source.partitioning in header else -1
    count = 0
    for row in rows:
        if len(row) != len(header) or any("\ufffd" in v for v in row):
            continue  # rejected as malformed: not part of any month
        try:
            month = date.fromisoformat(row[col].strip())
        except (ValueError, IndexError):
            continue
        count += window[0] <= month <= window[1]
    return count


def reconciliation(key: AssetKey, landed_in_window: int, bronze_rows: int, rejects: int,
                       duplicates: int) -> AssetCheckResult:
    """landing rows = bronze rows + rejects + duplicates removed (for the window checked)."""
    balance = bronze_rows + rejects + duplicates
    return AssetCheckResult(
        asset_key=key,
        check_name=RECONCILIATION,
        passed=landed_in_window == balance,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "landing_rows": landed_in_window,
            "bronze_rows": bronze_rows,
            "rejects": rejects,
            "duplicates_removed": duplicates,
            "difference": landed_in_window - balance,
        },
    )


def key_not_null(key: AssetKey, rows: DataFrame, columns: tuple[str, ...]) -> AssetCheckResult:
    condition = " OR ".join(f"`{c}` IS NULL" for c in columns)
    nulls = rows.filter(condition).count()
    return AssetCheckResult(asset_key=key, check_name=KEY_NOT_NULL, passed=nulls == 0,
                            severity=AssetCheckSeverity.ERROR,
                            metadata={"null_keys": nulls, "key": ", ".join(columns)})


def key_unique(key: AssetKey, rows: DataFrame, columns: tuple[str, ...], per: tuple[str, ...] = (),
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


def event_landing_rows(spark: SparkSession, files: list[str], lake_root: str) -> int:
    """Non-blank lines of the given landing files (paths relative to the lake or absolute)."""
    if not files:
        return 0
    paths = [f if f.startswith("/") or "://" in f else f"{lake_root.rstrip('/')}/{f}" for f in files]
    return spark.read.text(paths).filter(F.trim("value") != "").count()
