"""The asset of a table that several assets write, each replacing only its own slice
(``bronze/csv_rejects``: one source's keys per CSV asset; ``quarantine/dq_metrics``: one silver
table's window per silver asset).

A Dagster asset has one producer, and only the writers hold the rows while they write, so the
table is not rebuilt here: this asset runs after its writers in every job that runs them, and
publishes what they left (row count, rows per slice, schema) with the spec's checks over the
whole table. The tables are small (a reject line, a count per rule and partition), so that is
one aggregation and one Spark job per check.
"""


from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from cloud_analytics.lib.checks import asset_deps, asset_key, check_result, check_spec
from cloud_analytics.lib.delta_io import ensure_table
from cloud_analytics.lib.lake import LakeReader
from cloud_analytics.lib.metadata import table_metadata
from cloud_analytics.lib.spec import CheckInput, TableSpec, ddl


def published_table_asset(spec: TableSpec, slice_name: str):
    """The asset of ``spec`` (unpartitioned, after ``spec.deps``); ``slice_name`` labels the
    counts per value of the spec's partition column in the metadata."""
    key = asset_key(spec)

    @asset(key=key, group_name=spec.layer, description=spec.description, deps=asset_deps(spec),
           kinds={"spark", "delta"}, tags={"layer": spec.layer}, required_resource_keys={"spark", "lake"},
           check_specs=[check_spec(key, check) for check in spec.checks])
    def _published(context: AssetExecutionContext) -> MaterializeResult:
        session = context.resources.spark.spark_session
        reader = LakeReader(session, context.resources.lake.root)
        path = reader.path(*spec.key_path)
        # Before any writer ran (a first run's other job), the table exists, empty, and checks pass on it.
        ensure_table(session, path, ddl(spec), [spec.partition_column])
        table = session.read.format("delta").load(path)
        per_slice = {str(row[0]): int(row[1]) for row in table.groupBy(spec.partition_column).count().collect()}
        rows = sum(per_slice.values())
        text = f"{rows:,} rows in {len(per_slice)} {slice_name}s"
        context.log.info(f"{spec.path}: {text}")
        given = CheckInput(written=table, read=reader.read)
        return MaterializeResult(
            metadata=table_metadata(session, path, rows, summary=text,
                                    **{f"rows_by_{slice_name}": MetadataValue.json(dict(sorted(per_slice.items())))}),
            check_results=[check_result(key, check, given) for check in spec.checks],
        )

    return _published
