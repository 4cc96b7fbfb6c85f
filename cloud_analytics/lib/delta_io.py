"""Delta Lake I/O: existence, partition-window replaces, table versions (Dagster-free; the
materialization metadata built from a table is in ``metadata.py``)."""

from __future__ import annotations

from typing import Iterable

from pyspark.sql import DataFrame, SparkSession


def table_exists(spark: SparkSession, path: str) -> bool:
    from delta.tables import DeltaTable

    return DeltaTable.isDeltaTable(spark, path)


def replace_where(df: DataFrame, path: str, predicate: str, partition_by: Iterable[str]) -> None:
    """Atomically replace the rows matching ``predicate`` (a partition window) with ``df``.

    Re-running a partition therefore never duplicates: the window is deleted and rewritten
    in one Delta commit. Rows are grouped by the partition columns first so each partition
    gets few files.
    """
    cols = list(partition_by)
    (
        df.repartition(*cols)
        .write.format("delta")
        .mode("overwrite")
        .option("replaceWhere", predicate)
        .partitionBy(*cols)
        .save(path)
    )


def ensure_table(spark: SparkSession, path: str, schema: str, partition_by: Iterable[str]) -> None:
    """Create an empty Delta table if none is at ``path`` (so MERGE always has a target)."""
    if not table_exists(spark, path):
        empty = spark.createDataFrame([], schema)
        empty.write.format("delta").mode("ignore").partitionBy(*partition_by).save(path)


def table_version(spark: SparkSession, path: str) -> int:
    from delta.tables import DeltaTable

    return int(DeltaTable.forPath(spark, path).history(1).select("version").first()[0])


def last_operation_metrics(spark: SparkSession, path: str) -> dict[str, int]:
    from delta.tables import DeltaTable

    row = DeltaTable.forPath(spark, path).history(1).select("operationMetrics").first()
    return {k: int(v) for k, v in (row[0] or {}).items() if str(v).lstrip("-").isdigit()}
