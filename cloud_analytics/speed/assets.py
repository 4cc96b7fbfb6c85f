"""Dagster assets of the speed layer, and the baselines it scores against.

``speed_layer`` runs in the same stream run as the bronze ingest (same dynamic partition:
one stream trigger), right after it, so events reach Cassandra's speed view in the run that
ingested them. ``gold/cost_baselines`` is learned by the batch layer from silver.
"""

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    Config,
    MaterializeResult,
    MetadataValue,
    asset,
    multi_asset,
)
from pyspark.sql import functions as F

from cloud_analytics.bronze.assets import USAGE_EVENTS
from cloud_analytics.delta_io import table_exists, table_metadata
from cloud_analytics.partitions import stream_runs
from cloud_analytics.resources.cassandra import CassandraResource
from cloud_analytics.resources.lake import LakeResource
from cloud_analytics.resources.spark import SparkResource
from cloud_analytics.serving.schema import create_schema
from cloud_analytics.silver.assets import load_refs
from cloud_analytics.speed.baseline import cost_baselines
from cloud_analytics.speed.stream import SpeedPaths, SpeedStream
from cloud_analytics.speed.windows import SLIDE, WATERMARK_DELAY, WINDOW

COST_BASELINES = AssetKey(["gold", "cost_baselines"])
WINDOWS = AssetKey(["speed", "usage_windows"])
LATE_ROWS = AssetKey(["speed", "late_rows"])
ALERTS = AssetKey(["speed", "usage_alerts"])
ALERTS_SERVING = AssetKey(["serving", "usage_alerts_by_org"])
SPEED_VIEW = AssetKey(["serving", "speed_view"])
SPEED_KEYS = [WINDOWS, LATE_ROWS, ALERTS, ALERTS_SERVING, SPEED_VIEW]
EVERY_ROW_SEEN = "every_bronze_row_seen_once"
WINDOWS_CONSERVE = "windows_hold_every_on_time_row"
WINDOWS_PER_ROW = 12  # a 1-hour window sliding every 5 minutes: each instant lies in 12 windows


@asset(key=COST_BASELINES, group_name="gold", deps=[AssetKey(["silver", "usage_events"])],
       kinds={"spark", "delta"}, tags={"layer": "gold"},
       description="Per org and service (and per service over all orgs, org_id '*'): median, MAD and p99 of "
                   "event costs over every silver event. The speed layer's alerts score new events against it.")
def cost_baselines_asset(context: AssetExecutionContext, spark: SparkResource, lake: LakeResource) -> MaterializeResult:
    session = spark.spark_session
    silver = session.read.format("delta").load(lake.table("silver", "usage_events"))
    path = lake.table("gold", "cost_baselines")
    cost_baselines(silver).write.format("delta").mode("overwrite").option("overwriteSchema", "true").save(path)
    table = session.read.format("delta").load(path)
    rows = table.count()
    orgs = table.filter(F.col("org_id") != "*").select("org_id").distinct().count()
    context.log.info(f"gold/cost_baselines: {rows} baselines for {orgs} orgs")
    return MaterializeResult(metadata=table_metadata(session, path, rows, orgs=orgs))


class SpeedConfig(Config):
    """Run config of the speed layer (editable in the launchpad)."""

    max_files_per_trigger: int = 1000  # Delta files of bronze per micro-batch


@multi_asset(
    specs=[
        AssetSpec(WINDOWS, group_name="speed", deps=[USAGE_EVENTS], kinds={"spark", "delta"}, tags={"layer": "speed"},
                  description=f"Sliding windows ({WINDOW}, every {SLIDE}) of cost, requests and events per org and "
                  f"service, from on-time rows (watermark: newest event time minus {WATERMARK_DELAY}); one partial "
                  "row per window and micro-batch (sum them, see speed/windows.py)."),
        AssetSpec(LATE_ROWS, group_name="speed", deps=[USAGE_EVENTS], kinds={"spark", "delta"}, tags={"layer": "speed"},
                  description="Rows older than the watermark, counted per org, service and micro-batch: left to the "
                  "batch layer, never dropped from the lake."),
        AssetSpec(ALERTS, group_name="speed", deps=[USAGE_EVENTS, COST_BASELINES], kinds={"spark", "delta"},
                  tags={"layer": "speed"},
                  description="Enriched events whose cost breaks the batch layer's baseline (robust z-score), with the reason."),
        AssetSpec(ALERTS_SERVING, group_name="serving", deps=[ALERTS], kinds={"cassandra"}, tags={"layer": "serving"},
                  description="Cassandra table `usage_alerts_by_org` (primary key org_id, alert_date, event_ts, "
                  "alert_id): the speed layer's alerts, newest first, kept 90 days."),
        AssetSpec(SPEED_VIEW, group_name="serving", deps=[USAGE_EVENTS], kinds={"spark", "cassandra"},
                  tags={"layer": "serving"},
                  description="Provisional rows (source = 'speed') in Cassandra `org_daily_usage` and `genai_by_org_day` "
                  "for dates after the batch watermark; batch loads replace them (see speed/serving.py)."),
    ],
    check_specs=[
        AssetCheckSpec(EVERY_ROW_SEEN, asset=WINDOWS, blocking=True,
                       description="rows the speed layer has processed (this checkpoint) = bronze rows"),
        AssetCheckSpec(WINDOWS_CONSERVE, asset=WINDOWS,
                       description=f"window event counts = {WINDOWS_PER_ROW} × on-time rows of this run"),
    ],
    partitions_def=stream_runs,
    can_subset=False,
)
def speed_layer(context: AssetExecutionContext, config: SpeedConfig, spark: SparkResource, lake: LakeResource,
                cassandra: CassandraResource):
    session = spark.spark_session
    paths = SpeedPaths(
        bronze=lake.table("bronze", "usage_events"), windows=lake.table("speed", "usage_windows"),
        late=lake.table("speed", "late_rows"), alerts=lake.table("speed", "usage_alerts"),
        state=lake.table("speed", "_stream_state"), baselines=lake.table("gold", "cost_baselines"),
        orgs_history=lake.table("silver", "customers_orgs_history"),
        resources_history=lake.table("silver", "resources_history"), checkpoint=lake.checkpoint("speed_usage"),
    )

    def refs():
        needed = (paths.orgs_history, paths.resources_history)
        return load_refs(session, lake, "usage_events") if all(table_exists(session, p) for p in needed) else None

    with cassandra.session() as cql:
        create_schema(cql)
        stream = SpeedStream(session, paths, context.partition_key, cassandra_session=cql,
                             cassandra_target=cassandra.target, max_files_per_trigger=config.max_files_per_trigger,
                             refs_loader=refs, log=context.log.info)
        report = stream.run()
        alerts_in_cassandra = cql.execute("SELECT count(*) FROM usage_alerts_by_org").one()[0]

    bronze_rows = session.read.format("delta").load(paths.bronze).count()
    state = session.read.format("delta").load(paths.state).filter(F.col("checkpoint_id") == stream.app_id)
    seen = int(state.agg(F.sum("rows")).first()[0] or 0)
    windows = session.read.format("delta").load(paths.windows)
    run_window_events = int(windows.filter(F.col("stream_run") == context.partition_key)
                            .agg(F.sum("event_count")).first()[0] or 0)
    on_time = report.rows - report.late_rows
    summary = (f"{report.rows:,} events in {report.batches} micro-batches: {report.late_rows:,} late, "
               f"{report.window_rows:,} window rows, {report.alerts} alerts, speed rows "
               f"{report.speed_rows or 'none'}")
    context.log.info(summary)
    notes = MetadataValue.text("; ".join(report.notes) or "none")
    yield MaterializeResult(asset_key=WINDOWS, metadata=table_metadata(
        session, paths.windows, windows.count(), micro_batches=report.batches, events=report.rows,
        on_time_rows=on_time, window_rows_written=report.window_rows,
        watermark=str(report.watermark) if report.watermark else "none", summary=summary, notes=notes))
    yield MaterializeResult(asset_key=LATE_ROWS, metadata=table_metadata(
        session, paths.late, session.read.format("delta").load(paths.late).count(), late_rows=report.late_rows,
        late_share=round(report.late_rows / report.rows, 4) if report.rows else 0.0))
    yield MaterializeResult(asset_key=ALERTS, metadata=table_metadata(
        session, paths.alerts, session.read.format("delta").load(paths.alerts).count(), new_alerts=report.alerts))
    yield MaterializeResult(asset_key=ALERTS_SERVING, metadata={
        "dagster/row_count": MetadataValue.int(alerts_in_cassandra), "new_alerts": report.alerts,
        "cassandra": cassandra.target})
    yield MaterializeResult(asset_key=SPEED_VIEW, metadata={
        "speed_rows_written": MetadataValue.json(report.speed_rows), "dates": len(report.dates),
        "cassandra": cassandra.target})
    yield AssetCheckResult(asset_key=WINDOWS, check_name=EVERY_ROW_SEEN, passed=seen == bronze_rows,
                           severity=AssetCheckSeverity.ERROR,
                           metadata={"bronze_rows": bronze_rows, "rows_seen_by_speed_layer": seen})
    yield AssetCheckResult(asset_key=WINDOWS, check_name=WINDOWS_CONSERVE,
                           passed=run_window_events == WINDOWS_PER_ROW * on_time, severity=AssetCheckSeverity.ERROR,
                           metadata={"window_event_count": run_window_events, "on_time_rows": on_time})


assets = [cost_baselines_asset, speed_layer]
