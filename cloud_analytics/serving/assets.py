"""Serving assets: one per gold-fed Cassandra table of ``serving/specs.py``, partitioned like
its gold mart, or unpartitioned (``ServingSpec.partitions`` None: the table is replaced whole
from the whole mart, e.g. the ticket tables rebuilt from the newest tickets snapshot).

A run loads the gold rows of its window with ``loader.load_window`` (range deletes at T-1 then
upserts at T, in single-partition batches), so re-loading leaves the table identical and rows
gone from gold disappear. Checks read Cassandra back: row counts per window equal gold's, and
a sample of rows equals gold's values. The speed-fed serving tables are materialized by the
speed layer's stream asset (``speed/assets.py``).

Fixed cost per run: one Spark pass over the window, streamed to Cassandra with
``toLocalIterator``; what the checks need from gold (rows per CQL partition, a sample, a whole
table's newest date) is gathered on the way (``window.GoldStream``), and a partitioned table
asks gold for its newest date (a max Delta answers from its log). The whole mart is never
built: the partitions to replace are those Cassandra holds (``SELECT DISTINCT``, deleted before
the upserts, so rows gone from gold disappear) and those gold's rows bring (deleted after the
upserts, which the timestamps allow; they held nothing when the load began).

A load that finds Cassandra unreachable, or loses a node mid-load, asks Dagster to retry its
step (``RetryRequested``: ``CLOUD_ANALYTICS_CASSANDRA_RETRIES`` times, ``_RETRY_WAIT_S`` apart),
so a node restarting costs a wait, not a failed run; the load is idempotent.
"""

import time

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    MaterializeResult,
    MetadataValue,
    RetryRequested,
    asset,
)
from pyspark.sql import functions as F

from cloud_analytics.gold.specs import GOLD_BY_NAME
from cloud_analytics.lib.windows import date_window_predicate, day_window
from cloud_analytics.partitions import partitions_def
from cloud_analytics.resources.cassandra import CassandraResource, CassandraSetupError, CassandraUnavailableError
from cloud_analytics.resources.lake import LakeResource
from cloud_analytics.resources.spark import SparkResource
from cloud_analytics.serving import window as cql_window
from cloud_analytics.serving.loader import ServingLoadError, load_window
from cloud_analytics.serving.schema import create_schema
from cloud_analytics.serving.specs import GOLD_FED, ServingSpec
from cloud_analytics.serving.state import update_state

ROW_COUNT = "row_count_matches_gold"
SAMPLE = "sample_equals_gold"
SAMPLE_SIZE = 20


def transient(exc: BaseException) -> bool:
    """Whether a failed load may succeed later unchanged: Cassandra unreachable (not a setup
    error such as a missing keyspace or grant) or its requests failing (a node down, timeouts)."""
    from cassandra import OperationTimedOut, Unavailable, Timeout
    from cassandra.cluster import NoHostAvailable

    if isinstance(exc, CassandraSetupError):
        return False
    if isinstance(exc, ServingLoadError):
        return exc.transient
    return isinstance(exc, (CassandraUnavailableError, NoHostAvailable, OperationTimedOut, Unavailable, Timeout))


def asset_key(spec: ServingSpec) -> AssetKey:
    return AssetKey(spec.key_path)


def _mismatches(gold: dict, cassandra: dict, limit: int = 5) -> str:
    keys = [p for p in sorted(set(gold) | set(cassandra), key=str) if gold.get(p, 0) != cassandra.get(p, 0)]
    text = "; ".join(f"{p}: gold {gold.get(p, 0)}, cassandra {cassandra.get(p, 0)}" for p in keys[:limit])
    return text + (f"; … {len(keys) - limit} more" if len(keys) > limit else "") if keys else "none"


def build_serving_asset(spec: ServingSpec):
    key = asset_key(spec)
    whole_table = spec.partitions is None
    gold_partition_column = GOLD_BY_NAME[spec.mart].partition_column
    if whole_table and spec.range_column is None:
        raise ValueError(f"{spec.path}: an unpartitioned serving table needs a range_column (its newest date is "
                         "the serving watermark)")
    columns = spec.column_names
    scope = "the whole table" if whole_table else "per window"

    @asset(
        key=key, group_name="serving", deps=[AssetKey(d.table.split("/")) for d in spec.deps],
        partitions_def=partitions_def(spec.partitions),
        backfill_policy=None if whole_table else BackfillPolicy.single_run(),
        kinds={"spark", "cassandra"}, tags={"layer": "serving"}, description=spec.asset_description,
        check_specs=[AssetCheckSpec(ROW_COUNT, asset=key, blocking=True, description=f"Cassandra rows = gold rows, {scope}"),
                     AssetCheckSpec(SAMPLE, asset=key, description="a sample of rows read back equals gold")],
    )
    def _serving(context: AssetExecutionContext, spark: SparkResource, lake: LakeResource,
                 cassandra: CassandraResource) -> MaterializeResult:
        try:
            return _load(context, spark, lake, cassandra)
        except Exception as exc:
            if cassandra.retries > 0 and transient(exc):
                context.log.warning(f"serving/{spec.name}: {exc}; retrying in {cassandra.retry_wait_s:g} s "
                                    f"(at most {cassandra.retries} times, CLOUD_ANALYTICS_CASSANDRA_RETRIES)")
                raise RetryRequested(max_retries=cassandra.retries, seconds_to_wait=cassandra.retry_wait_s) from exc
            raise

    def _load(context: AssetExecutionContext, spark: SparkResource, lake: LakeResource,
              cassandra: CassandraResource) -> MaterializeResult:
        started = time.monotonic()
        gold = spark.spark_session.read.format("delta").load(lake.table("gold", spec.mart))
        if whole_table:
            start = end = None
            window = spec.build(gold)
        else:
            start, end = day_window(context)
            window = spec.build(gold.filter(date_window_predicate(gold_partition_column, start, end)))
        stream = cql_window.GoldStream(columns, spec.partition_key, spec.range_column if whole_table else None,
                                       SAMPLE_SIZE)
        extra = cql_window.bounds(spec, start, end)
        with cassandra.session() as session:
            create_schema(session)
            held = cql_window.partitions(session, spec, start, end)
            held_set = set(held)
            result = load_window(
                session, spec.name, columns,
                stream.watch(window.select(*columns).toLocalIterator(prefetchPartitions=True)),
                cql_window.delete_statement(spec, whole_table), [(p, *extra) for p in held], cassandra.target,
                later_deletes=lambda: [(p, *extra) for p in stream.partitions if p not in held_set])
            # A partitioned run's newest date is gold's (Delta answers the max from its log); a
            # whole table's is the newest of the rows just loaded.
            newest = stream.newest if whole_table else gold.agg(F.max(gold_partition_column)).first()[0]
            covered_until = newest if whole_table else end
            if covered_until is not None:  # an empty whole table leaves the watermark alone
                update_state(session, spec.name, newest, covered_until)
            partitions = sorted(held_set | set(stream.partitions), key=str)
            in_cassandra = cql_window.count_window(session, spec, partitions, start, end)
            checked, problems = cql_window.sample_check(session, spec, stream.sample)
        gold_counts = {cql_window.partition_value(p): n for p, n in stream.rows_per_partition.items()}
        gold_rows, cassandra_rows = stream.seen, sum(in_cassandra.values())
        text = (f"{result.rows:,} rows loaded in {result.seconds:.1f} s ({result.rows_per_second:,.0f} rows/s); "
                f"{time.monotonic() - started:.1f} s in all")
        context.log.info(f"serving/{spec.name}: {text}")
        return MaterializeResult(
            metadata={"dagster/row_count": MetadataValue.int(result.rows), "rows_per_second": round(result.rows_per_second),
                      "load_seconds": round(result.seconds, 2), "seconds": round(time.monotonic() - started, 2),
                      "partitions_replaced": result.deleted_ranges,
                      "window": "whole table" if whole_table else f"{start}..{end}",
                      "cassandra": cassandra.target, "keyspace": cassandra.keyspace, "summary": text},
            check_results=[
                AssetCheckResult(asset_key=key, check_name=ROW_COUNT, passed=cassandra_rows == gold_rows,
                                 severity=AssetCheckSeverity.ERROR,
                                 metadata={"gold_rows": gold_rows, "cassandra_rows": cassandra_rows,
                                           "partitions_differing": MetadataValue.text(_mismatches(gold_counts, in_cassandra))}),
                AssetCheckResult(asset_key=key, check_name=SAMPLE, passed=not problems, severity=AssetCheckSeverity.ERROR,
                                 metadata={"rows_compared": checked, "problems": MetadataValue.text("; ".join(problems[:5]) or "none")}),
            ],
        )

    return _serving


assets = [build_serving_asset(spec) for spec in GOLD_FED]
