"""Bronze assets, derived from the specs (``specs.py``): one per CSV source (batch) and the
usage-event stream (one multi-asset for the events and their rejects).

Each CSV asset replaces exactly its partition window in ``<lake>/bronze/<source>`` and its
rows in the shared ``<lake>/bronze/csv_rejects`` table, so re-runs never duplicate. The
stream asset appends only what is new (see ``stream.py``). Checks run inside the asset on
exactly the window it wrote; ERROR checks block downstream layers.

A CSV asset is two Delta writes and nothing else: its row count, key figures, conflicts and
cast errors are observed while the rows are written, the rejects counted while they are
written, and the landing side is counted by Python's csv module (``checks.py``).
"""


from datetime import date
from pathlib import Path

from dagster import (
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetSpec,
    BackfillPolicy,
    Config,
    MaterializeResult,
    MetadataValue,
    asset,
    multi_asset,
)
from pyspark.sql import functions as F

from cloud_analytics.bronze import checks
from cloud_analytics.bronze.csv_ingest import REJECTS_SCHEMA, ingest
from cloud_analytics.bronze.specs import CSV_REJECTS, CSV_SOURCES, EVENTS_DIR, CsvSource
from cloud_analytics.bronze.specs import USAGE_EVENTS as EVENTS_SPEC
from cloud_analytics.bronze.specs import USAGE_EVENTS_REJECTS as REJECTS_SPEC
from cloud_analytics.bronze.stream import EventStream, StreamPaths
from cloud_analytics.lib import checks as generic
from cloud_analytics.lib.delta_io import ensure_table, replace_where
from cloud_analytics.lib.metadata import table_metadata
from cloud_analytics.lib.published import published_table_asset
from cloud_analytics.lib.spec import CheckInput
from cloud_analytics.lib.windows import date_window_predicate, day_window, days_in
from cloud_analytics.partitions import BILLING_START, partitions_def
from cloud_analytics.resources.lake import LakeResource
from cloud_analytics.resources.spark import SparkResource

USAGE_EVENTS = generic.asset_key(EVENTS_SPEC)
USAGE_EVENT_REJECTS = generic.asset_key(REJECTS_SPEC)
KINDS = {"spark", "delta"}
TAGS = {"layer": "bronze"}


def _write_csv_rejects(spark, lake: LakeResource, source: CsvSource, rejects, window: tuple[date, date]) -> int:
    """Replace the source's rejects of the window; the rows written, counted as they are."""
    path = lake.table(CSV_REJECTS.layer, CSV_REJECTS.name)
    ensure_table(spark, path, REJECTS_SCHEMA, [CSV_REJECTS.partition_column])
    if source.partitioning == "snapshot":
        keys = ", ".join(f"'{d.isoformat()}'" for d in days_in(*window))
    else:
        keys = "'invalid'"
    predicate = f"source = '{source.name}' AND partition_key IN ({keys})"
    written = generic.Written(rejects)
    replace_where(written.frame, path, predicate, [CSV_REJECTS.partition_column])
    return int(written.figures()[generic.ROWS])


def build_csv_asset(source: CsvSource):
    spec = source.spec
    key = generic.asset_key(spec)
    snapshot = source.partitioning == "snapshot"

    @asset(
        key=key,
        group_name=spec.layer,
        description=f"{spec.description} Landing file `{source.file_name}`, typed; values failing "
        "their cast kept in `cast_errors`; exact duplicates removed; key conflicts flagged.",
        partitions_def=partitions_def(spec.partitions),
        backfill_policy=BackfillPolicy.single_run(),
        kinds=KINDS,
        tags=TAGS,
        check_specs=[
            AssetCheckSpec(generic.RECONCILIATION, asset=key, blocking=True,
                           description="landing rows = bronze rows + rejects + duplicates removed"),
            AssetCheckSpec(generic.KEY_NOT_NULL, asset=key, blocking=True, description="key columns never null"),
            AssetCheckSpec(generic.KEY_UNIQUE, asset=key,
                           description="key unique per partition (conflicting versions are flagged)"),
        ],
    )
    def _bronze_csv(context: AssetExecutionContext, spark: SparkResource, lake: LakeResource) -> MaterializeResult:
        session = spark.spark_session
        window = day_window(context)
        landing_file = Path(lake.landing_path(source.file_name))
        context.log.info(f"ingesting {landing_file} for {window[0]}..{window[1]}")
        result = ingest(session, landing_file, source, lake.relative_to_lake(str(landing_file)), window,
                        partition_floor=None if snapshot else date.fromisoformat(BILLING_START))
        path = lake.table(spec.layer, spec.name)
        predicate = date_window_predicate(spec.partition_column, *window)
        written = generic.Written(result.rows, generic.KeyFigures(
            not_null=spec.key, unique=spec.key, per=(spec.partition_column,)), extra={
            "conflicts": F.count_if(F.col("key_conflict")),
            "cast_errors": F.count_if(F.col("cast_errors").isNotNull()),
        })
        replace_where(written.frame, path, predicate, [spec.partition_column])
        rejects = _write_csv_rejects(session, lake, source, result.rejects, window)

        stats = written.figures()
        rows = int(stats[generic.ROWS])
        n_days = (window[1] - window[0]).days + 1 if snapshot else 1
        duplicates = result.duplicates_removed * n_days
        check_results = [
            generic.reconciliation(key, checks.landing_rows_in_window(landing_file, source, window),
                                   rows, rejects if snapshot else 0, duplicates),
            generic.key_not_null_result(key, stats, spec.key),
            generic.key_unique_result(key, stats, spec.key, per=(spec.partition_column,),
                                      rows=lambda: session.read.format("delta").load(path).filter(predicate)),
        ]
        summary = f"{rows:,} rows, {rejects} rejects, {duplicates} duplicates removed"
        context.log.info(f"{spec.path}: {summary}")
        return MaterializeResult(
            metadata=table_metadata(
                session, path, rows,
                landing_file=MetadataValue.path(str(landing_file)),
                landing_rows=result.landed,
                empty_file=result.empty_file,
                rejects=rejects,
                duplicates_removed=duplicates,
                key_conflict_rows=int(stats["conflicts"] or 0),
                rows_with_cast_errors=int(stats["cast_errors"] or 0),
                partition_window=f"{window[0]}..{window[1]}",
                summary=summary,
            ),
            check_results=check_results,
        )

    return _bronze_csv


def _reported_through(context: AssetExecutionContext, app_id: str) -> tuple[bool, int | None]:
    """(known, batch): the newest micro-batch of checkpoint ``app_id`` a stream materialization has
    reported (batch None: none has, or the checkpoint was reset and has a new id). ``known`` is
    False when the last materialization predates this bookkeeping: it is trusted to have
    reported everything (an upgraded lake does not refresh its whole history once)."""
    event = context.instance.get_latest_materialization_event(USAGE_EVENTS)
    if event is None or event.asset_materialization is None:
        return True, None
    value = event.asset_materialization.metadata.get("ledger_reported_through")
    if value is None:
        return False, None
    return True, (value.value.get("batch") if value.value.get("checkpoint") == app_id else None)


class StreamConfig(Config):
    """Run config of the usage-event stream (editable in the launchpad)."""

    # Landed files per micro-batch: each batch has a fixed cost (about ten Spark jobs, four
    # commits) and its MERGE reads the stored keys of the dates it touches, so few large batches
    # ingest fastest; 2,000 default files are about 720,000 events, well within the driver's memory.
    max_files_per_trigger: int = 2000
    allowed_lateness_seconds: int = 3600


@multi_asset(
    specs=[
        AssetSpec(generic.asset_key(spec), group_name=spec.layer, kinds=KINDS, tags=TAGS,
                  description=spec.description)
        for spec in (EVENTS_SPEC, REJECTS_SPEC)
    ],
    check_specs=[
        AssetCheckSpec(generic.RECONCILIATION, asset=USAGE_EVENTS, blocking=True,
                       description="landing lines = bronze rows + rejects + duplicates (all files ingested)"),
        AssetCheckSpec(generic.KEY_NOT_NULL, asset=USAGE_EVENTS, blocking=True),
        AssetCheckSpec(generic.KEY_UNIQUE, asset=USAGE_EVENTS, blocking=True,
                       description="event_id unique across the whole table"),
        *(generic.check_spec(USAGE_EVENT_REJECTS, check) for check in REJECTS_SPEC.checks),
    ],
    partitions_def=partitions_def(EVENTS_SPEC.partitions),
    can_subset=False,
)
def usage_events_stream(context: AssetExecutionContext, config: StreamConfig, spark: SparkResource,
                        lake: LakeResource):
    session = spark.spark_session
    paths = StreamPaths(
        events_dir=lake.landing_path(EVENTS_DIR),
        table=lake.table(EVENTS_SPEC.layer, EVENTS_SPEC.name),
        rejects=lake.table(REJECTS_SPEC.layer, REJECTS_SPEC.name),
        ledger=lake.table(EVENTS_SPEC.layer, "_usage_events_ledger"),
        checkpoint=lake.checkpoint("bronze_usage_events"),
    )
    stream = EventStream(session, paths, context.partition_key, lake.root,
                         max_files_per_trigger=config.max_files_per_trigger,
                         allowed_lateness_s=config.allowed_lateness_seconds, log=context.log.info,
                         files=lake.files())
    report = stream.run()
    # Batches a killed run committed (the checkpoint moved) before it could report their dates:
    # this run reports them, so the refresh of those dates is not lost with the process.
    known, reported = _reported_through(context, report.app_id)
    pending = stream.unreported(reported)
    recovered = pending if known else {}
    if recovered:
        context.log.warning(f"micro-batches {sorted(recovered)} were committed by a run that did not report them: "
                            "their dates are reported with this run's")
    touched = set(report.dates).union(*recovered.values())
    through = max([*report.batch_ids, *pending, *([reported] if reported is not None else [])], default=None)

    table = session.read.format("delta").load(paths.table)
    # The row count and both key checks over the whole table, in one aggregation.
    # A line without a usable timestamp is a reject, so event_ts is as required as the key.
    required = (*EVENTS_SPEC.key, "event_ts")
    stats = generic.figures_of(table, generic.KeyFigures(not_null=required, unique=EVENTS_SPEC.key))
    total = int(stats[generic.ROWS])
    rejects_table = session.read.format("delta").load(paths.rejects)
    total_rejects = rejects_table.count()
    rejects_checked = [generic.check_result(USAGE_EVENT_REJECTS, check, CheckInput(written=rejects_table, read=None))
                       for check in REJECTS_SPEC.checks]
    ledger = session.read.format("delta").load(paths.ledger)
    sums = ledger.agg(
        F.sum(F.col("duplicates_in_batch") + F.col("duplicates_existing")).alias("dups"),
        F.array_distinct(F.flatten(F.collect_list("files"))).alias("files"),
    ).first()
    landed = checks.event_landing_rows(session, list(sums["files"] or []), lake.root)
    dates = sorted(d.isoformat() for d in touched)
    summary = (f"{report.inserted:,} new events from {len(report.files)} files, {report.duplicates} duplicates, "
               f"{report.rejects} rejects, {len(dates)} dates touched")
    context.log.info(summary)
    yield MaterializeResult(
        asset_key=USAGE_EVENTS,
        metadata=table_metadata(
            session, paths.table, total,
            micro_batches=report.batches,
            files_read=len(report.files),
            rows_read=report.rows_read,
            inserted=report.inserted,
            duplicates=report.duplicates,
            duplicates_within_batch=report.duplicates_in_batch,
            duplicates_already_stored=report.duplicates_existing,
            rejects=report.rejects,
            blank_lines=report.blank_lines,
            late_rows=report.late_rows,
            schema_versions=MetadataValue.json(report.schema_versions),
            dates_touched=MetadataValue.json(dates),
            recovered_batches=MetadataValue.json(sorted(recovered)),
            ledger_reported_through=MetadataValue.json({"checkpoint": report.app_id, "batch": through}),
            summary=summary,
        ),
    )
    yield MaterializeResult(
        asset_key=USAGE_EVENT_REJECTS,
        metadata=table_metadata(session, paths.rejects, total_rejects, new_rejects=report.rejects,
                                summary=f"{report.rejects} new rejects"),
    )
    yield generic.reconciliation(USAGE_EVENTS, landed, total, total_rejects, int(sums["dups"] or 0))
    yield generic.key_not_null_result(USAGE_EVENTS, stats, required)
    yield generic.key_unique_result(USAGE_EVENTS, stats, EVENTS_SPEC.key, rows=table,
                                    severity=AssetCheckSeverity.ERROR)
    yield from rejects_checked


csv_assets = [build_csv_asset(source) for source in CSV_SOURCES]
assets = [*csv_assets, published_table_asset(CSV_REJECTS, slice_name="source"), usage_events_stream]
