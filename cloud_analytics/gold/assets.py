"""Gold assets, derived from ``specs.GOLD_SPECS``: one Delta table per spec.

A partitioned mart computes its rows from silver for the run's partition window and replaces
exactly that window (``replaceWhere`` on its partition column), then checks what it wrote:
key unique within the partition, the declared columns, and the spec's own checks. A table
without partitions (``cost_baselines``) is rebuilt whole. The row count and the summary
figures come from one aggregation over the written rows.
"""

from dagster import AssetCheckSeverity, AssetCheckSpec, AssetExecutionContext, BackfillPolicy, MaterializeResult, asset
from pyspark.sql import DataFrame

from cloud_analytics.gold.inputs import Inputs
from cloud_analytics.gold.specs import GOLD_SPECS
from cloud_analytics.lib.checks import (
    KEY_UNIQUE,
    SCHEMA,
    asset_deps,
    asset_key,
    check_result,
    check_spec,
    key_unique,
    schema_matches,
)
from cloud_analytics.lib.delta_io import replace_where
from cloud_analytics.lib.metadata import table_metadata
from cloud_analytics.lib.lake import LakeReader
from cloud_analytics.lib.spec import CheckInput, TableSpec
from cloud_analytics.lib.windows import date_window_predicate, day_window
from cloud_analytics.partitions import partitions_def
from cloud_analytics.resources.lake import LakeResource
from cloud_analytics.resources.spark import SparkResource

KIND = {"spark", "delta"}
TAGS = {"layer": "gold"}


def _unique_key(spec: TableSpec) -> tuple[str, ...]:
    """The key checked unique: the spec's key within its partition (one snapshot, one day)."""
    key = spec.key
    return key if spec.partition_column in key else (spec.partition_column, *key)


def figures(spec: TableSpec, written: DataFrame) -> tuple[int, list]:
    """The row count and the spec's summary figures, in one aggregation (None counts as 0)."""
    row = written.selectExpr("count(1) AS rows", *[f"{expr} AS f{n}" for n, (_, expr) in enumerate(spec.summary)]
                             ).first()
    return int(row["rows"]), [row[f"f{n}"] or 0 for n in range(len(spec.summary))]


def summary_line(spec: TableSpec, rows: int, values: list) -> str:
    """``"1,234 rows, cost USD 5,678.90"``: a label with ``{}`` places its value itself."""
    parts = [f"{rows:,} rows"]
    for (label, _), value in zip(spec.summary, values):
        text = f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"
        parts.append(label.format(text) if "{}" in label else f"{label} {text}")
    return ", ".join(parts)


def build_mart_asset(spec: TableSpec):
    key = asset_key(spec)
    check_specs = [
        AssetCheckSpec(KEY_UNIQUE, asset=key, blocking=True, description="primary key unique"),
        AssetCheckSpec(SCHEMA, asset=key, blocking=True, description="columns equal the declared contract"),
        *[check_spec(key, check) for check in spec.checks],
    ]

    @asset(key=key, group_name="gold", description=spec.description, deps=asset_deps(spec),
           partitions_def=partitions_def(spec.partitions), backfill_policy=BackfillPolicy.single_run(), kinds=KIND,
           tags=TAGS, check_specs=check_specs)
    def _gold(context: AssetExecutionContext, spark: SparkResource, lake: LakeResource) -> MaterializeResult:
        session = spark.spark_session
        reader = LakeReader(session, lake.root)
        start, end = day_window(context)
        window = date_window_predicate(spec.partition_column, start, end)
        df = spec.build(Inputs(reader, start, end)).filter(window)
        path = reader.path("gold", spec.name)
        replace_where(df, path, window, [spec.partition_column])
        written = reader.load("gold", spec.name).filter(window).cache()
        rows, values = figures(spec, written)
        given = CheckInput(written, reader.load, start, end)
        results = [key_unique(key, written, _unique_key(spec), severity=AssetCheckSeverity.ERROR),
                   schema_matches(key, written, spec.column_names),
                   *[check_result(key, check, given) for check in spec.checks]]
        written.unpersist()
        summary = summary_line(spec, rows, values)
        context.log.info(f"{spec.path}: {summary}")
        return MaterializeResult(metadata=table_metadata(session, path, rows, summary=summary),
                                 check_results=results)

    return _gold


def build_whole_asset(spec: TableSpec):
    """An unpartitioned table, overwritten whole; its summary figures are metadata by label."""

    @asset(key=asset_key(spec), group_name="gold", description=spec.description, deps=asset_deps(spec),
           kinds=KIND, tags=TAGS)
    def _gold_whole(context: AssetExecutionContext, spark: SparkResource, lake: LakeResource) -> MaterializeResult:
        session = spark.spark_session
        reader = LakeReader(session, lake.root)
        path = reader.path("gold", spec.name)
        rebuilt = spec.build(Inputs(reader))
        rebuilt.write.format("delta").mode("overwrite").option("overwriteSchema", "true").save(path)
        rows, values = figures(spec, reader.load("gold", spec.name))
        context.log.info(f"{spec.path}: {summary_line(spec, rows, values)}")
        extra = {label: value for (label, _), value in zip(spec.summary, values)}
        return MaterializeResult(metadata=table_metadata(session, path, rows, **extra))

    return _gold_whole


assets = [build_mart_asset(spec) if spec.partitions else build_whole_asset(spec) for spec in GOLD_SPECS]
