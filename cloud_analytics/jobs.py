"""Jobs: one per partitions definition, so a schedule or a backfill targets assets that
share their partitions; and the ordered steps of an end-to-end run (``make run``)."""

from __future__ import annotations

from dagster import AssetKey, AssetSelection, DagsterInstance, define_asset_job

from cloud_analytics.bronze.assets import csv_assets, usage_events_stream
from cloud_analytics.bronze.schemas import CSV_SOURCES
from cloud_analytics.partitions import billing_monthly, events_daily, snapshot_daily, stream_runs
from cloud_analytics.silver.assets import BILLING, SNAPSHOT_TABLES
from cloud_analytics.silver.assets import assets as silver_assets

SNAPSHOT_KEYS = [a.key for a, s in zip(csv_assets, CSV_SOURCES) if s.partitioning == "snapshot"]
BILLING_KEYS = [a.key for a, s in zip(csv_assets, CSV_SOURCES) if s.partitioning != "snapshot"]
SILVER_SNAPSHOT_KEYS = [AssetKey(["silver", t.name]) for t in SNAPSHOT_TABLES] + [
    AssetKey(["silver", "customers_orgs_history"]), AssetKey(["silver", "resources_history"])]
SILVER_BILLING_KEYS = [AssetKey(["silver", BILLING.name])]
SILVER_EVENTS_KEYS = [AssetKey(["silver", "usage_events"])]

daily_snapshot_job = define_asset_job(
    "daily_snapshot_job", selection=AssetSelection.assets(*SNAPSHOT_KEYS, *SILVER_SNAPSHOT_KEYS),
    description="Capture the day's snapshot of the master-data, ticket, touch and survey files.",
)
monthly_billing_job = define_asset_job(
    "monthly_billing_job", selection=AssetSelection.assets(*BILLING_KEYS, *SILVER_BILLING_KEYS),
    description="Ingest the invoices of a month.",
)
usage_stream_job = define_asset_job(
    "usage_stream_job", selection=AssetSelection.assets(*usage_events_stream.keys),
    tags={"cloud_analytics/stream": "true"},
    description="One stream trigger: ingest every usage-event file not yet seen.",
)
events_daily_job = define_asset_job(
    "events_daily_job", selection=AssetSelection.assets(*SILVER_EVENTS_KEYS),
    description="Rebuild the usage-derived daily partitions (silver and, later, gold and serving).",
)
jobs = [daily_snapshot_job, monthly_billing_job, usage_stream_job, events_daily_job]


def pipeline_steps(instance: DagsterInstance, layers: tuple[str, ...] | None = None) -> list[dict]:
    """The runs of ``make run``, in dependency order (kwargs of ``runner.run_step``),
    optionally only those of some layers."""
    from cloud_analytics.runner import stream_run_key

    today = snapshot_daily.get_last_partition_key()
    months = billing_monthly.get_partition_keys()
    stream_key = stream_run_key()
    instance.add_dynamic_partitions(stream_runs.name, [stream_key])
    every = [*csv_assets, usage_events_stream, *silver_assets]
    steps = {"bronze": [
        dict(name=f"bronze snapshots {today}", assets=every, selection=SNAPSHOT_KEYS, partition_key=today),
        dict(name=f"bronze billing {months[0]}..{months[-1]}", assets=every, selection=BILLING_KEYS,
             partition_range=(months[0], months[-1])),
        dict(name=f"bronze usage stream {stream_key}", assets=every, selection=list(usage_events_stream.keys),
             partition_key=stream_key),
    ], "silver": [
        dict(name=f"silver snapshots {today}", assets=every, selection=SILVER_SNAPSHOT_KEYS, partition_key=today),
        dict(name=f"silver billing {months[0]}..{months[-1]}", assets=every, selection=SILVER_BILLING_KEYS,
             partition_range=(months[0], months[-1])),
        dict(name="silver usage events", assets=every, selection=SILVER_EVENTS_KEYS,
             partition_range=event_dates_to_rebuild),
    ]}
    return [step for layer, layer_steps in steps.items() if layers is None or layer in layers
            for step in layer_steps]


def event_dates_to_rebuild(previous: list) -> tuple[str, str] | None:
    """The daily range the usage-derived layers must rebuild: the dates the stream run just
    touched, plus any date bronze holds that silver does not have yet (a first run, or a
    run that stopped after bronze). None when there is nothing to do."""
    from cloud_analytics.config import load_settings
    from cloud_analytics.delta_io import table_exists
    from cloud_analytics.resources.spark import get_spark

    touched = {d for step in previous for asset, meta in step.materializations.items()
               if asset == "bronze/usage_events" for d in meta.get("dates_touched", [])}
    settings = load_settings()
    spark = get_spark(settings)

    def dates(layer: str) -> set[str]:
        path = settings.layer_path(layer, "usage_events")
        if not table_exists(spark, path):
            return set()
        return {r[0].isoformat() for r in spark.read.format("delta").load(path).select("event_date").distinct().collect()}

    todo = touched | (dates("bronze") - dates("silver"))
    return (min(todo), max(todo)) if todo else None
