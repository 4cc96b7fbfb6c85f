"""Jobs: one per partitions definition, so a schedule or a backfill targets assets that
share their partitions; and the ordered steps of an end-to-end run (``make run``)."""

from __future__ import annotations

from dagster import AssetSelection, DagsterInstance, define_asset_job

from cloud_analytics.bronze.assets import csv_assets, usage_events_stream
from cloud_analytics.bronze.schemas import CSV_SOURCES
from cloud_analytics.partitions import billing_monthly, snapshot_daily, stream_runs

SNAPSHOT_KEYS = [a.key for a, s in zip(csv_assets, CSV_SOURCES) if s.partitioning == "snapshot"]
BILLING_KEYS = [a.key for a, s in zip(csv_assets, CSV_SOURCES) if s.partitioning != "snapshot"]

daily_snapshot_job = define_asset_job(
    "daily_snapshot_job", selection=AssetSelection.assets(*SNAPSHOT_KEYS),
    description="Capture the day's snapshot of the master-data, ticket, touch and survey files.",
)
monthly_billing_job = define_asset_job(
    "monthly_billing_job", selection=AssetSelection.assets(*BILLING_KEYS),
    description="Ingest the invoices of a month.",
)
usage_stream_job = define_asset_job(
    "usage_stream_job", selection=AssetSelection.assets(*usage_events_stream.keys),
    tags={"cloud_analytics/stream": "true"},
    description="One stream trigger: ingest every usage-event file not yet seen.",
)
jobs = [daily_snapshot_job, monthly_billing_job, usage_stream_job]


def pipeline_steps(instance: DagsterInstance, layers: tuple[str, ...] | None = None) -> list[dict]:
    """The runs of ``make run``, in dependency order (kwargs of ``runner.run_step``),
    optionally only those of some layers."""
    from cloud_analytics.runner import stream_run_key

    today = snapshot_daily.get_last_partition_key()
    months = billing_monthly.get_partition_keys()
    stream_key = stream_run_key()
    instance.add_dynamic_partitions(stream_runs.name, [stream_key])
    every = [*csv_assets, usage_events_stream]
    steps = {"bronze": [
        dict(name=f"bronze snapshots {today}", assets=every, selection=SNAPSHOT_KEYS, partition_key=today),
        dict(name=f"bronze billing {months[0]}..{months[-1]}", assets=every, selection=BILLING_KEYS,
             partition_range=(months[0], months[-1])),
        dict(name=f"bronze usage stream {stream_key}", assets=every, selection=list(usage_events_stream.keys),
             partition_key=stream_key),
    ]}
    return [step for layer, layer_steps in steps.items() if layers is None or layer in layers
            for step in layer_steps]
