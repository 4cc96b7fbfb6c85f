"""Silver assets, derived from the specs (``specs.py``): every bronze table evaluated by its
data-quality rules, conformed, enriched; and the SCD2 histories.

A conformed asset reads its bronze partition window, applies the table's rules (``quality``),
writes kept rows to ``<lake>/silver/<table>``, quarantined rows to ``<lake>/quarantine/<table>``
and per-rule counts to ``<lake>/quarantine/dq_metrics``, each replacing exactly the window, so
re-runs never duplicate. A history asset rebuilds its table from every stored snapshot of its
source on each run (small tables); the other tables use the histories as reference data and
for as-of enrichment. The PII pepper and the quarantine-rate limit come from the ``quality``
resource.

Every figure is counted while it is written (``lib.checks.Written``): the bronze rows as the
evaluation first reads them, the kept, quarantined and per-rule counts as each write reads its
rows. Nothing is read back, so an asset costs its writes and little more.
"""

from dagster import (
    AssetExecutionContext,
    AssetSpec,
    BackfillPolicy,
    MaterializeResult,
    MetadataValue,
    asset,
    multi_asset,
)
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from cloud_analytics.lib import checks as generic
from cloud_analytics.lib.delta_io import observe, observed, overwrite, replace_where
from cloud_analytics.lib.lake import LakeReader
from cloud_analytics.lib.metadata import table_metadata
from cloud_analytics.lib.published import published_table_asset
from cloud_analytics.lib.spec import CheckInput, TableSpec
from cloud_analytics.lib.windows import date_window_predicate, day_window
from cloud_analytics.partitions import partitions_def
from cloud_analytics.quality import evaluate, metrics
from cloud_analytics.quality.domains import blank
from cloud_analytics.quality.model import Policy
from cloud_analytics.resources.lake import LakeResource
from cloud_analytics.resources.quality import QualityResource
from cloud_analytics.resources.spark import SparkResource
from cloud_analytics.silver import checks
from cloud_analytics.silver.inputs import SilverInputs
from cloud_analytics.silver.refs import load_refs
from cloud_analytics.silver.specs import DQ_METRICS, QUARANTINE_BY_TABLE, SILVER_SPECS, is_history

KIND = {"spark", "delta"}
TAGS = {"layer": "silver"}


def write_quality(lake: LakeReader, evaluation, table: str, start, end) -> dict:
    """Quarantine rows and per-rule counts of the window, each replacing the window's rows.

    Returns the summary of the counts written (as ``quality.metrics_summary`` would read them
    back) plus ``quarantine_rows``, the rows the quarantine write committed, and
    ``without_reason``, those of them missing their rule, reason or raw record."""
    window = date_window_predicate("partition_date", start, end)
    incomplete = blank("rule_id") | blank("reason") | blank("raw_record")
    quarantined = generic.Written(evaluation.quarantined, extra={"without_reason": F.count_if(incomplete)})
    replace_where(quarantined.frame, lake.path("quarantine", table), window, ["partition_date"])
    columns = ("rule_id", "partition_date", "failed_count", "quarantined_count", "evaluated_count")
    counts = generic.Written(metrics(evaluation), extra={"metrics": F.collect_list(F.struct(*columns))})
    replace_where(counts.frame, lake.path("quarantine", "dq_metrics"), f"table = '{table}' AND {window}", ["table"])
    figures = quarantined.figures()
    return {**_metrics_summary(counts.figures()["metrics"] or []),
            "quarantine_rows": int(figures[generic.ROWS]), "without_reason": int(figures["without_reason"] or 0)}


def _metrics_summary(rows) -> dict:
    """``quality.metrics_summary`` over the metric rows in hand: totals over partitions,
    ``{"evaluated": n, "quarantined": q, "kept": n - q, "rules": {rule_id: failed_count}}``."""
    failed: dict[str, int] = {}
    quarantined = 0
    for row in rows:
        failed[row["rule_id"]] = failed.get(row["rule_id"], 0) + (row["failed_count"] or 0)
        quarantined += row["quarantined_count"] or 0
    # Every rule has a row in every evaluated partition: each partition's count once.
    evaluated = sum(n or 0 for _, n in {(r["partition_date"], r["evaluated_count"]) for r in rows})
    return {"evaluated": evaluated, "quarantined": quarantined, "kept": evaluated - quarantined,
            "rules": dict(sorted(failed.items()))}


def _quality_metadata(summary: dict) -> dict:
    return {
        "evaluated": summary["evaluated"],
        "quarantined": summary["quarantined"],
        "dq_rule_counts": MetadataValue.json(summary["rules"]),
    }


def conformed_asset(spec: TableSpec):
    """The silver table and its quarantine, one multi-asset: the evaluation splits every bronze
    row of the window into exactly one of them, so they are written (and re-run) together."""
    key = generic.asset_key(spec)
    quarantine = QUARANTINE_BY_TABLE[spec.name]
    quarantine_key = generic.asset_key(quarantine)
    source_layer, source_name = spec.deps[0].table.split("/")

    @multi_asset(
        specs=[
            AssetSpec(key, group_name="silver", description=spec.description, deps=generic.asset_deps(spec),
                      kinds=KIND, tags=TAGS),
            AssetSpec(quarantine_key, group_name="quarantine", description=quarantine.description,
                      deps=generic.asset_deps(quarantine), kinds=KIND, tags={"layer": "quarantine"}),
        ],
        partitions_def=partitions_def(spec.partitions),
        backfill_policy=BackfillPolicy.single_run(),
        check_specs=[*checks.specs(key), *checks.quarantine_specs(quarantine_key)],
        can_subset=False,
        name=f"silver_{spec.name}",
    )
    def _silver(context: AssetExecutionContext, spark: SparkResource, lake: LakeResource,
                quality: QualityResource):
        session = spark.spark_session
        reader = LakeReader(session, lake.root)
        start, end = day_window(context)
        window = date_window_predicate(spec.partition_column, start, end)
        source = reader.load(source_layer, source_name).filter(window)
        # Bronze rows counted as the evaluation first reads them (it is cached for three writes).
        counted, bronze = observe(source, {"rows": F.count(F.lit(1))})
        evaluation = evaluate(counted, spec.name, load_refs(reader, spec.name), Policy.of(quality)).persist()
        path = reader.path("silver", spec.name)
        built = spec.build(SilverInputs(evaluation.kept, reader, start, end, pepper=quality.pii_pepper))
        written = generic.Written(built, generic.KeyFigures(not_null=spec.key))
        replace_where(written.frame, path, window, [spec.partition_column])
        summary = write_quality(reader, evaluation, spec.name, start, end)
        bronze_rows = (observed(bronze) or {}).get("rows")
        evaluation.unpersist()
        if bronze_rows is None:  # the cache was filled outside an observed action: count bronze
            bronze_rows = source.count()

        stats = written.figures()
        rows, quarantined = int(stats[generic.ROWS]), summary.pop("quarantine_rows")
        without_reason = summary.pop("without_reason")
        text = f"{rows:,} rows, {quarantined:,} quarantined"
        context.log.info(f"{spec.path}: {text}; rule counts {summary['rules']}")
        yield MaterializeResult(
            asset_key=key,
            metadata=table_metadata(session, path, rows, **_quality_metadata(summary), summary=text))
        fired = {rule: n for rule, n in summary["rules"].items() if n}
        yield MaterializeResult(
            asset_key=quarantine_key,
            metadata=table_metadata(session, reader.path(*quarantine.key_path), quarantined,
                                    evaluated=summary["evaluated"], summary=f"{quarantined:,} of {summary['evaluated']:,} "
                                    f"rows quarantined in the window", rules_fired=MetadataValue.json(fired)))
        yield checks.conservation(key, int(bronze_rows), rows, quarantined)
        yield generic.key_not_null_result(key, stats, spec.key)
        yield generic.schema_matches(key, reader.load("silver", spec.name), spec.column_names)
        yield checks.reason_present(quarantine_key, quarantined, without_reason)
        yield checks.quarantine_rate(quarantine_key, summary, quality.max_quarantine_rate)

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
        # Cached: written whole, then checked (the SCD2 invariants) without reading it back.
        history: DataFrame = spec.build(SilverInputs(snapshots, reader, end=end)).persist()
        path = reader.path("silver", spec.name)
        written = generic.Written(history, extra={"current": F.count_if(F.col("is_current"))})
        overwrite(written.frame, path)
        stats = written.figures()
        rows, current = int(stats[generic.ROWS]), int(stats["current"] or 0)
        text = f"{rows:,} versions, {current:,} current, snapshots up to {end}"
        context.log.info(f"{spec.path}: {text}")
        given = CheckInput(written=history, read=reader.read, end=end)
        results = [*(generic.check_result(key, c, given) for c in spec.checks),
                   generic.schema_matches(key, reader.load("silver", spec.name), spec.column_names)]
        history.unpersist()
        return MaterializeResult(
            metadata=table_metadata(session, path, rows, current_rows=current, summary=text),
            check_results=results,
        )

    return _history


assets = [*(history_asset(spec) if is_history(spec) else conformed_asset(spec) for spec in SILVER_SPECS),
          published_table_asset(DQ_METRICS, slice_name="table")]
