"""Delta Lake I/O: existence, partition-window replaces, whole-table overwrites, table versions,
and the figures a write observes in its own pass (Dagster-free; the materialization metadata
built from a table is in ``metadata.py``).

Every Spark job costs a fixed ~0.1-0.5 s whatever the data size, and Delta adds its own (a
snapshot's state is rebuilt by Spark jobs the first time a new version is read or written).
So what a write commits is counted while it writes (``observe``), not by reading the table
back, and a table's version comes from the Delta log the session already holds.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Iterable

from pyspark.sql import Column, DataFrame, Observation, SparkSession

from cloud_analytics.lib.sessions import is_connect


def table_exists(spark: SparkSession, path: str) -> bool:
    if is_connect(spark):  # no DeltaTable API without Delta's Connect plugin
        return _exists_through_connect(spark, path)
    from delta.tables import DeltaTable

    return DeltaTable.isDeltaTable(spark, path)


def _exists_through_connect(spark: SparkSession, path: str) -> bool:
    local = path.removeprefix("file:")
    if "://" not in local:  # a local lake: the server sees the same paths, so look without a query
        log = Path(local) / "_delta_log"
        return log.is_dir() and any(p.suffix == ".json" or p.name.endswith(".checkpoint.parquet")
                                    for p in log.iterdir())
    import logging

    from pyspark.errors import AnalysisException

    # The Connect client logs every failed call at ERROR; a missing table is an answer here.
    client_log = logging.getLogger("pyspark.sql.connect.logging")
    level = client_log.level
    client_log.setLevel(logging.CRITICAL)
    try:
        spark.sql(f"DESCRIBE DETAIL delta.`{path}`").select("format").collect()
    except AnalysisException as exc:
        if "DELTA_MISSING_DELTA_TABLE" in str(exc):
            return False
        raise
    finally:
        client_log.setLevel(level)
    return True


def replace_where(df: DataFrame, path: str, predicate: str, partition_by: Iterable[str]) -> None:
    """Atomically replace the rows matching ``predicate`` (a partition window) with ``df``.

    Re-running a partition therefore never duplicates: the window is deleted and rewritten
    in one Delta commit. Rows are grouped by the partition columns first so each partition
    gets few files. Delta checks that every row of ``df`` matches ``predicate``, so after the
    commit the window holds exactly ``df``: figures observed on ``df`` are the window's.
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


def overwrite(df: DataFrame, path: str, partition_by: Iterable[str] = ()) -> None:
    """Replace the whole table with ``df`` in one commit (its schema and partitioning too)."""
    cols = list(partition_by)
    writer = (df.repartition(*cols) if cols else df).write.format("delta").mode("overwrite")
    writer = writer.option("overwriteSchema", "true")
    (writer.partitionBy(*cols) if cols else writer).save(path)


def ensure_table(spark: SparkSession, path: str, schema: str, partition_by: Iterable[str]) -> None:
    """Create an empty Delta table if none is at ``path`` (so MERGE always has a target)."""
    if not table_exists(spark, path):
        empty = spark.createDataFrame([], schema)
        empty.write.format("delta").mode("ignore").partitionBy(*partition_by).save(path)


def table_version(spark: SparkSession, path: str) -> int:
    """The table's newest version, from its Delta log (a listing of ``_delta_log``, no Spark
    job); through Spark Connect, where the JVM is out of reach, from the history (one job)."""
    if not is_connect(spark):
        try:
            log = spark._jvm.org.apache.spark.sql.delta.DeltaLog.forTable(spark._jsparkSession, path)
            none = jvm.scala.Option.empty()
            return int(log.update(False, none, none).version())
        except Exception:  # a Delta whose API moved: the history says the same, one job later
            pass
    return int(history(spark, path).select("version").first()[0])


def history(spark: SparkSession, path: str, limit: int = 1) -> DataFrame:
    """The table's newest ``limit`` commits (SQL, so it works in-process and through Spark Connect)."""
    return spark.sql(f"DESCRIBE HISTORY delta.`{path}` LIMIT {int(limit)}")


def last_operation_metrics(spark: SparkSession, path: str) -> dict[str, int]:
    row = history(spark, path).select("operationMetrics").first()
    return {k: int(v) for k, v in (row[0] or {}).items() if str(v).lstrip("-").isdigit()}


def observe(df: DataFrame, figures: dict[str, Column]) -> tuple[DataFrame, Observation]:
    """``df`` with ``figures`` (aggregate columns, no DISTINCT) computed while the first action
    on it runs, e.g. the write: read them with ``observed`` afterwards, at no extra Spark job."""
    observation = Observation()
    return df.observe(observation, *[column.alias(name) for name, column in figures.items()]), observation


def observed(observation: Observation, wait_s: float = 1.0) -> dict[str, Any] | None:
    """The figures of ``observe`` once its frame was read or written; None if it never was
    (e.g. the frame's rows came from a cache filled by another action), so the caller counts."""
    jo = getattr(observation, "_jo", None)
    if jo is None:  # Spark Connect: the client holds the result of the action itself
        try:
            return observation.get
        except Exception:
            return None
    deadline = time.monotonic() + wait_s
    while not jo.future().isCompleted():  # Spark 4 completes it before the action returns: a grace
        if time.monotonic() > deadline:
            return None
        time.sleep(0.05)
    return observation.get
