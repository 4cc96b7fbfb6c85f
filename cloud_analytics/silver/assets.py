"""Silver assets, derived from the specs (``specs.py``): every bronze table evaluated by its
data-quality rules, conformed, enriched; and the SCD2 histories.

A conformed asset reads its bronze partition window, applies the table's rules (``quality``),
writes kept rows to ``<lake>/silver/<table>``, quarantined rows to ``<lake>/quarantine/<table>``
and per-rule counts to ``<lake>/quarantine/dq_metrics``, each replacing exactly the window, so
re-runs never duplicate. A history asset rebuilds its table from every stored snapshot of its
source on each run (small tables); the other tables use the histories as reference data and
for as-of enrichment. The PII pepper and the quarantine-rate limit come from the ``quality``
resource.
"""

from dagster import (
    AssetExecutionContext,
    BackfillPolicy,
    MaterializeResult,
    MetadataValue,
    asset,
)
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from cloud_analytics.lib import checks as generic
from cloud_analytics.lib.delta_io import replace_where
from cloud_analytics.lib.metadata import table_metadata
from cloud_analytics.lib.lake import LakeReader
from cloud_analytics.lib.spec import CheckInput, TableSpec
from cloud_analytics.lib.windows import date_window_predicate, day_window
from cloud_analytics.partitions import partitions_def
from cloud_analytics.quality import evaluate, metrics, metrics_summary
from cloud_analytics.resources.lake import LakeResource
from cloud_analytics.resources.quality import QualityResource
from cloud_analytics.resources.spark import SparkResource
from cloud_analytics.silver import checks
from cloud_analytics.silver.inputs import SilverInputs
from cloud_analytics.silver.refs import load_refs
from cloud_analytics.silver.specs import SILVER_SPECS, is_history

KIND = {"spark", "delta"}
TAGS = {"layer": "silver"}


def write_quality(lake: LakeReader, evaluation, table: str, start, end) -> dict:
    """Quarantine rows and per-rule counts of the window, each replacing the window's rows."""
    window = date_window_predicate("partition_date", start, end)
    replace_where(evaluation.quarantined, lake.path("quarantine", table), window, ["partition_date"])
    counts = metrics(evaluation)
    replace_where(counts, lake.path("quarantine", "dq_metrics"), f"table = '{table}' AND {window}", ["table"])
    return metrics_summary(lake.load("quarantine", "dq_metrics").filter(f"table = '{table}' AND {window}"))


def _quality_metadata(summary: dict) -> dict:
    return {
        "evaluated": summary["evaluated"],
        "quarantined": summary["quarantined"],
        "dq_rule_counts": MetadataValue.json(summary["rules"]),
    }


def conformed_asset(spec: TableSpec):
    key = generic.asset_key(spec)
    source_layer, source_name = spec.deps[0].table.split("/")

    @asset(
        key=key,
        group_name="silver",
        description=spec.description,
        deps=generic.asset_deps(spec),
        partitions_def=partitions_def(spec.partitions),
        backfill_policy=BackfillPolicy.single_run(),
        kinds=KIND,
        tags=TAGS,
        check_specs=checks.specs(key),
    )
    def _silver(context: AssetExecutionContext, spark: SparkResource, lake: LakeResource,
                quality: QualityResource) -> MaterializeResult:
        session = spark.spark_session
        reader = LakeReader(session, lake.root)
        start, end = day_window(context)
        window = date_window_predicate(spec.partition_column, start, end)
        source = reader.load(source_layer, source_name).filter(window)
        evaluation = evaluate(source, spec.name, load_refs(reader, spec.name)).persist()
        path = reader.path("silver", spec.name)
        built = spec.build(SilverInputs(evaluation.kept, reader, start, end, pepper=quality.pii_pepper))
        replace_where(built, path, window, [spec.partition_column])
        summary = write_quality(reader, evaluation, spec.name, start, end)
        evaluation.unpersist()

        written = reader.load("silver", spec.name).filter(window)
        rows = written.count()
        quarantined = reader.load("quarantine", spec.name).filter(
            date_window_predicate("partition_date", start, end)).count()
        check_results = [
            checks.conservation(key, source.count(), rows, quarantined),
            checks.quarantine_rate(key, summary, quality.max_quarantine_rate),
            generic.key_not_null(key, written, spec.key),
            generic.schema_matches(key, written, spec.column_names),
        ]
        text = f"{rows:,} rows, {quarantined:,} quarantined"
        context.log.info(f"{spec.path}: {text}; rule counts {summary['rules']}")
        return MaterializeResult(
            metadata=table_metadata(session, path, rows, **_quality_metadata(summary), summary=text),
            check_results=check_results,
        )

    return _silver


def history_asset(spec: TableSpec):
    key = generic.asset_key(spec)
    (source,) = spec.deps
    source_layer, source_name = source.table.split("/")

    @asset(
        key=key, group_name="silver", description=spec.description, deps=generic.asset_deps(spec),
        partitions_def=partitions_def(spec.partitions), backfill_policy=BackfillPolicy.single_run(), kinds=KIND,
        tags=TAGS, check_specs=[*(generic.check_spec(key, c) for c in spec.checks), checks.schema_spec(key)],
    )
    def _history(context: AssetExecutionContext, spark: SparkResource, lake: LakeResource) -> MaterializeResult:
        session = spark.spark_session
        reader = LakeReader(session, lake.root)
        _, end = day_window(context)
        snapshots = reader.load(source_layer, source_name).filter(F.col("snapshot_date") <= F.lit(end))
        history: DataFrame = spec.build(SilverInputs(snapshots, reader, end=end))
        path = reader.path("silver", spec.name)
        history.write.format("delta").mode("overwrite").option("overwriteSchema", "true").save(path)
        stored = reader.load("silver", spec.name)
        rows = stored.count()
        current = stored.filter("is_current").count()
        text = f"{rows:,} versions, {current:,} current, snapshots up to {end}"
        context.log.info(f"{spec.path}: {text}")
        given = CheckInput(written=stored, read=reader.read, end=end)
        return MaterializeResult(
            metadata=table_metadata(session, path, rows, current_rows=current, summary=text),
            check_results=[*(generic.check_result(key, c, given) for c in spec.checks),
                           generic.schema_matches(key, stored, spec.column_names)],
        )

    return _history


assets = [history_asset(spec) if is_history(spec) else conformed_asset(spec) for spec in SILVER_SPECS]
