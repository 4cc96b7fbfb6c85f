"""Serving assets: one per gold-fed Cassandra table of ``serving/specs.py``, partitioned like
its gold mart.

A run loads the gold rows of its partition window with ``loader.load_window`` (range deletes
at T-1 then upserts at T, prepared and concurrent), so re-loading leaves the table identical
and rows gone from gold disappear. Checks read Cassandra back: row counts per window equal
gold's, and a sample of rows equals gold's values. The speed-fed serving tables are
materialized by the speed layer's stream asset (``speed/assets.py``).
"""

import random

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    MaterializeResult,
    MetadataValue,
    asset,
)
from pyspark.sql import functions as F

from cloud_analytics.gold.specs import GOLD_BY_NAME
from cloud_analytics.lib.windows import date_window_predicate, day_window
from cloud_analytics.partitions import partitions_def
from cloud_analytics.resources.cassandra import CassandraResource
from cloud_analytics.resources.lake import LakeResource
from cloud_analytics.resources.spark import SparkResource
from cloud_analytics.serving import window as cql_window
from cloud_analytics.serving.loader import load_window
from cloud_analytics.serving.schema import create_schema
from cloud_analytics.serving.specs import GOLD_FED, ServingSpec
from cloud_analytics.serving.state import update_state

ROW_COUNT = "row_count_matches_gold"
SAMPLE = "sample_equals_gold"
SAMPLE_SIZE = 20


def asset_key(spec: ServingSpec) -> AssetKey:
    return AssetKey(spec.key_path)


def build_serving_asset(spec: ServingSpec):
    key = asset_key(spec)
    gold_partition_column = GOLD_BY_NAME[spec.mart].partition_column
    columns = spec.column_names

    @asset(
        key=key, group_name="serving", deps=[AssetKey(d.table.split("/")) for d in spec.deps],
        partitions_def=partitions_def(spec.partitions), backfill_policy=BackfillPolicy.single_run(),
        kinds={"spark", "cassandra"}, tags={"layer": "serving"}, description=spec.asset_description,
        check_specs=[AssetCheckSpec(ROW_COUNT, asset=key, blocking=True, description="Cassandra rows = gold rows, per window"),
                     AssetCheckSpec(SAMPLE, asset=key, description="a sample of rows read back equals gold")],
    )
    def _serving(context: AssetExecutionContext, spark: SparkResource, lake: LakeResource,
                 cassandra: CassandraResource) -> MaterializeResult:
        session_spark = spark.spark_session
        start, end = day_window(context)
        gold_all = session_spark.read.format("delta").load(lake.table("gold", spec.mart))
        window = spec.build(gold_all.filter(date_window_predicate(gold_partition_column, start, end))).cache()
        with cassandra.session() as session:
            create_schema(session)
            partitions = cql_window.partitions(session, spec, spec.build(gold_all), start, end)
            result = load_window(session, spec.name, columns,
                                 (tuple(r) for r in window.select(*columns).toLocalIterator()),
                                 cql_window.delete_statement(spec),
                                 [(p, *cql_window.bounds(spec, start, end)) for p in partitions], cassandra.target)
            newest = gold_all.agg(F.max(gold_partition_column)).first()[0]
            update_state(session, spec.name, newest, end)
            gold_rows = window.count()
            in_cassandra = cql_window.count_window(session, spec, partitions, start, end)
            sample_rows = [r.asDict() for r in window.select(*spec.key, *spec.compare).collect()]
            checked, problems = cql_window.sample_check(
                session, spec, random.Random(0).sample(sample_rows, min(SAMPLE_SIZE, len(sample_rows))))
        window.unpersist()
        text = f"{result.rows:,} rows loaded in {result.seconds:.1f} s ({result.rows_per_second:,.0f} rows/s)"
        context.log.info(f"serving/{spec.name}: {text}")
        return MaterializeResult(
            metadata={"dagster/row_count": MetadataValue.int(result.rows), "rows_per_second": round(result.rows_per_second),
                      "partitions_replaced": result.deleted_ranges, "cassandra": cassandra.target,
                      "keyspace": cassandra.keyspace, "summary": text},
            check_results=[
                AssetCheckResult(asset_key=key, check_name=ROW_COUNT, passed=in_cassandra == gold_rows,
                                 severity=AssetCheckSeverity.ERROR,
                                 metadata={"gold_rows": gold_rows, "cassandra_rows": in_cassandra}),
                AssetCheckResult(asset_key=key, check_name=SAMPLE, passed=not problems, severity=AssetCheckSeverity.ERROR,
                                 metadata={"rows_compared": checked, "problems": MetadataValue.text("; ".join(problems[:5]) or "none")}),
            ],
        )

    return _serving


assets = [build_serving_asset(spec) for spec in GOLD_FED]
