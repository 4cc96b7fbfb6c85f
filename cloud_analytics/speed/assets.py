"""Dagster assets of the speed layer, derived from ``speed/specs.py`` and the speed-fed
serving specs.

``speed_layer`` runs in the same stream run as the bronze ingest (same dynamic partition:
one stream trigger), right after it, so events reach Cassandra's speed view in the run that
ingested them. One stream run writes every table, so they are one multi-asset that cannot be
subset. The baselines it scores against (``gold/cost_baselines``) are a gold asset.
"""

from functools import partial

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    Config,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)

from cloud_analytics.bronze.specs import USAGE_EVENTS as BRONZE_EVENTS
from cloud_analytics.gold.specs import GOLD_BY_NAME
from cloud_analytics.lib.checks import check_result, check_spec, outcome_result
from cloud_analytics.lib.metadata import table_metadata
from cloud_analytics.lib.lake import LakeReader
from cloud_analytics.lib.spec import CheckInput, TableSpec
from cloud_analytics.partitions import partitions_def
from cloud_analytics.resources.alerts import AlertWebhookResource
from cloud_analytics.resources.cassandra import CassandraResource
from cloud_analytics.resources.lake import LakeResource
from cloud_analytics.quality.model import Policy
from cloud_analytics.resources.quality import QualityResource
from cloud_analytics.resources.spark import SparkResource
from cloud_analytics.serving.schema import create_schema
from cloud_analytics.serving.specs import LIVE_USAGE_BY_ORG, SPEED_FED, SPEED_VIEW, USAGE_ALERTS_BY_ORG, ServingSpec
from cloud_analytics.silver.refs import load_refs
from cloud_analytics.silver.specs import CUSTOMERS_ORGS_HISTORY, RESOURCES_HISTORY
from cloud_analytics.speed import notify
from cloud_analytics.speed.checks import ALERTS_SERVED
from cloud_analytics.speed.specs import (
    CLOSED_WINDOWS, LATE_ROWS, SPEED_SPECS, STREAM_STATE, USAGE_ALERTS, USAGE_WINDOWS,
)
from cloud_analytics.speed.stream import SpeedPaths, SpeedStream

def speed_refs(lake_root: str, spark):
    """The quality rules' references for speed rows; None until silver has built the histories.
    A module function of the lake root and a session, so a micro-batch running in the Spark
    service reads them with its own session."""
    reader = LakeReader(spark, lake_root)
    needed = (CUSTOMERS_ORGS_HISTORY, RESOURCES_HISTORY)
    return load_refs(reader, BRONZE_EVENTS.name) if all(reader.exists(*s.key_path) for s in needed) else None


OUTPUTS: tuple[TableSpec, ...] = (*SPEED_SPECS, *SPEED_FED)  # what one stream run of the speed layer writes
COST_BASELINES = GOLD_BY_NAME["cost_baselines"]  # built by gold/assets.py
MAX_ALERTS_LOGGED = 200  # run log entries per run; the rest are in speed/usage_alerts
MAX_ALERTS_TABLE = 20  # newest alerts shown in the usage_alerts materialization


def _key(spec: TableSpec) -> AssetKey:
    return AssetKey(spec.key_path)


def _kinds(spec: TableSpec) -> set[str]:
    if not isinstance(spec, ServingSpec):
        return {"spark", "delta"}
    # The view's rows are computed with Spark; alert rows are written from the batch's collected alerts.
    return {"spark", "cassandra"} if spec.view_of else {"cassandra"}


def _asset_spec(spec: TableSpec) -> AssetSpec:
    description = spec.asset_description if isinstance(spec, ServingSpec) else spec.description
    return AssetSpec(_key(spec), group_name=spec.layer, deps=[AssetKey(d.table.split("/")) for d in spec.deps],
                     kinds=_kinds(spec), tags={"layer": spec.layer}, description=description)


class SpeedConfig(Config):
    """Run config of the speed layer (editable in the launchpad)."""

    max_files_per_trigger: int = 1000  # Delta files of bronze per micro-batch


@multi_asset(
    specs=[_asset_spec(spec) for spec in OUTPUTS],
    check_specs=[*(check_spec(_key(spec), check) for spec in OUTPUTS for check in spec.checks),
                 check_spec(_key(USAGE_ALERTS_BY_ORG), ALERTS_SERVED)],
    partitions_def=partitions_def(USAGE_WINDOWS.partitions),
    can_subset=False,
)
def speed_layer(context: AssetExecutionContext, config: SpeedConfig, spark: SparkResource, lake: LakeResource,
                cassandra: CassandraResource, alert_webhook: AlertWebhookResource, quality: QualityResource):
    session = spark.spark_session
    reader = LakeReader(session, lake.root)
    path = lambda spec: reader.path(*spec.key_path)  # noqa: E731
    paths = SpeedPaths(
        bronze=path(BRONZE_EVENTS), windows=path(USAGE_WINDOWS), closed=path(CLOSED_WINDOWS), late=path(LATE_ROWS),
        alerts=path(USAGE_ALERTS),
        state=path(STREAM_STATE), baselines=path(COST_BASELINES), orgs_history=path(CUSTOMERS_ORGS_HISTORY),
        resources_history=path(RESOURCES_HISTORY), checkpoint=lake.checkpoint("speed_usage"),
    )

    with cassandra.session() as cql:
        create_schema(cql)
        stream = SpeedStream(session, paths, context.partition_key, cassandra=cassandra, cassandra_session=cql,
                             max_files_per_trigger=config.max_files_per_trigger,
                             refs_loader=partial(speed_refs, lake.root), log=context.log.info,
                             policy=Policy.of(quality), files=lake.files())
        report = stream.run()
        alerts_in_cassandra = cql.execute("SELECT count(*) FROM usage_alerts_by_org").one()[0]
        lake_alerts = session.read.format("delta").load(paths.alerts)
        served = check_result(_key(USAGE_ALERTS_BY_ORG), ALERTS_SERVED, CheckInput(
            written=lake_alerts, read=reader.read, params={"stream_run": context.partition_key, "cql": cql}))

    # Read back also when this run raised none: a retry of a run that failed after its batches
    # committed finds the alerts of that attempt (same partition) still to be delivered.
    new_alerts = notify.run_alerts(session, paths.alerts, context.partition_key, report.batch_ids) \
        if report.alerts or alert_webhook.enabled else []
    for alert in new_alerts[:MAX_ALERTS_LOGGED]:
        context.log.warning(notify.describe(alert))
    if len(new_alerts) > MAX_ALERTS_LOGGED:
        context.log.warning(f"… and {len(new_alerts) - MAX_ALERTS_LOGGED} more alerts in {paths.alerts}")
    webhook = {"delivered": 0, "failed": 0}
    if alert_webhook.enabled:
        webhook = notify.notify_webhook(session, alert_webhook, paths.alerts, reader.path("speed", "_alert_deliveries"),
                                        new_alerts, context.partition_key, log=context.log.warning)

    windows = session.read.format("delta").load(paths.windows)
    on_time = report.rows - report.late_rows - report.quarantined_rows
    summary = (f"{report.rows:,} events in {report.batches} micro-batches: {report.late_rows:,} late, "
               f"{report.quarantined_rows:,} below the minimum cost (EV-05), "
               f"{report.window_rows:,} window rows, {report.alerts} alerts, speed rows "
               f"{report.speed_rows or 'none'}; seconds per phase {report.phase_seconds or 'none'}")
    context.log.info(summary)
    notes = MetadataValue.text("; ".join(report.notes) or "none")
    params = {"checkpoint_id": stream.app_id, "stream_run": context.partition_key}
    tables = {USAGE_WINDOWS: windows, USAGE_ALERTS: lake_alerts,
              **{spec: session.read.format("delta").load(path(spec)) for spec in (CLOSED_WINDOWS, LATE_ROWS)}}
    checked, rows = [], {}
    for spec, table in tables.items():
        for check in spec.checks:
            outcome = check.evaluate(CheckInput(written=table, read=reader.read, params=params))
            checked.append(outcome_result(_key(spec), check, outcome))
            rows.setdefault(spec, outcome.metadata.get("rows"))  # key_unique counted them already
    count = lambda spec: rows.get(spec) if rows.get(spec) is not None else tables[spec].count()  # noqa: E731

    yield MaterializeResult(asset_key=_key(USAGE_WINDOWS), metadata=table_metadata(
        session, paths.windows, windows.count(), micro_batches=report.batches, events=report.rows,
        on_time_rows=on_time, quarantined_rows=report.quarantined_rows, window_rows_written=report.window_rows,
        watermark=str(report.watermark) if report.watermark else "none", summary=summary, notes=notes,
        phase_seconds=MetadataValue.json(report.phase_seconds)))
    yield MaterializeResult(asset_key=_key(CLOSED_WINDOWS), metadata=table_metadata(
        session, paths.closed, count(CLOSED_WINDOWS)))
    yield MaterializeResult(asset_key=_key(LATE_ROWS), metadata=table_metadata(
        session, paths.late, count(LATE_ROWS), late_rows=report.late_rows,
        late_share=round(report.late_rows / report.rows, 4) if report.rows else 0.0))
    yield MaterializeResult(asset_key=_key(USAGE_ALERTS), metadata=table_metadata(
        session, paths.alerts, count(USAGE_ALERTS), new_alerts=report.alerts,
        newest_alerts=MetadataValue.md(_alerts_table(new_alerts[-MAX_ALERTS_TABLE:])),
        webhook_delivered=webhook["delivered"], webhook_failed=webhook["failed"]))
    yield MaterializeResult(asset_key=_key(USAGE_ALERTS_BY_ORG), metadata={
        "dagster/row_count": MetadataValue.int(alerts_in_cassandra), "new_alerts": report.alerts,
        "cassandra": cassandra.target})
    yield MaterializeResult(asset_key=_key(LIVE_USAGE_BY_ORG), metadata={
        "rows_upserted": report.speed_rows.get(LIVE_USAGE_BY_ORG.name, 0), "cassandra": cassandra.target})
    yield MaterializeResult(asset_key=_key(SPEED_VIEW), metadata={
        "speed_rows_written": MetadataValue.json(
            {t: n for t, n in report.speed_rows.items() if t in SPEED_VIEW.view_of}), "dates": len(report.dates),
        "cassandra": cassandra.target})
    yield from checked
    yield served


def _alerts_table(alerts: list) -> str:
    if not alerts:
        return "no new alerts"
    lines = ["| org | service | event time | cost USD | reason |", "|---|---|---|---|---|"]
    lines += [f"| {a['org_id']} | {a['service']} | {a['event_ts']} | {a['cost_usd']:.2f} | {a['reason']} |"
              for a in alerts]
    return "\n".join(lines)


assets = [speed_layer]
