"""The metadata every table materialization records in the Dagster UI: row count, column
schema, URI and Delta version.

None of it runs a Spark job: the caller brings the row count (counted while it wrote), the
schema and the version come from the Delta log the session holds after its commit."""

from __future__ import annotations

from typing import Any

from dagster import MetadataValue, TableColumn, TableSchema
from pyspark.sql import SparkSession

from cloud_analytics.lib.delta_io import table_version


def column_schema(df_or_schema: Any) -> TableSchema:
    schema = getattr(df_or_schema, "schema", df_or_schema)
    return TableSchema(columns=[TableColumn(name=f.name, type=f.dataType.simpleString()) for f in schema.fields])


def table_metadata(spark: SparkSession, path: str, rows: int, **extra: Any) -> dict[str, Any]:
    """The metadata every table materialization carries in the Dagster UI."""
    df = spark.read.format("delta").load(path)
    meta: dict[str, Any] = {
        "dagster/row_count": MetadataValue.int(rows),
        "dagster/column_schema": column_schema(df),
        "dagster/uri": MetadataValue.path(path),
        "delta_version": MetadataValue.int(table_version(spark, path)),
    }
    meta.update(extra)
    return meta
