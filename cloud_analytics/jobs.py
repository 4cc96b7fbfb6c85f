"""Jobs: one per partitions definition, so a schedule or a backfill targets assets that
share their partitions; and the ordered steps of an end-to-end run (``make run``)."""

from __future__ import annotations

from dagster import AssetKey, AssetSelection, DagsterInstance, define_asset_job

from cloud_analytics.bronze.assets import csv_assets, usage_events_stream
from cloud_analytics.bronze.schemas import CSV_SOURCES
from cloud_analytics.partitions import billing_monthly, events_daily, snapshot_daily, stream_runs
from cloud_analytics.silver.assets import BILLING, SNAPSHOT_TABLES
from cloud_analytics.silver.assets import assets as silver_assets
from cloud_analytics.gold.assets import MARTS
from cloud_analytics.gold.assets import assets as gold_assets
from cloud_analytics.serving.assets import TABLES as SERVING_TABLES
from cloud_analytics.serving.assets import assets as serving_assets
from cloud_analytics.speed.assets import COST_BASELINES, speed_layer
from cloud_analytics.speed.assets import assets as speed_assets

SNAPSHOT_KEYS = [a.key for a, s in zip(csv_assets, CSV_SOURCES) if s.partitioning == "snapshot"]
BILLING_KEYS = [a.key for a, s in zip(csv_assets, CSV_SOURCES) if s.partitioning != "snapshot"]
SILVER_SNAPSHOT_KEYS = [AssetKey(["silver", t.name]) for t in SNAPSHOT_TABLES] + [
    AssetKey(["silver", "customers_orgs_history"]), AssetKey(["silver", "resources_history"])]
SILVER_BILLING_KEYS = [AssetKey(["silver", BILLING.name])]
SILVER_EVENTS_KEYS = [AssetKey(["silver", "usage_events"])]


def _gold_keys(partitions, exclude=()) -> list[AssetKey]:
    return [AssetKey(["gold", m.name]) for m in MARTS if m.partitions is partitions and m.name not in exclude]


GOLD_EVENTS_KEYS = _gold_keys(events_daily, exclude=("customer_360",))
GOLD_360_KEYS = [AssetKey(["gold", "customer_360"])]
GOLD_BILLING_KEYS = _gold_keys(billing_monthly)
GOLD_TICKETS_KEYS = [AssetKey(["gold", "tickets_by_org_date"])]
GOLD_SNAPSHOT_KEYS = _gold_keys(snapshot_daily, exclude=("tickets_by_org_date",))


def _serving_keys(marts) -> list[AssetKey]:
    return [AssetKey(["serving", t.name]) for t in SERVING_TABLES if t.mart in marts]


SERVING_EVENTS_KEYS = _serving_keys(("org_daily_usage_by_service", "genai_tokens_by_org_date", "cost_anomaly_mart"))
SERVING_360_KEYS = _serving_keys(("customer_360",))
SERVING_BILLING_KEYS = _serving_keys(("revenue_by_org_month",))
SERVING_TICKETS_KEYS = _serving_keys(("tickets_by_org_date",))

daily_snapshot_job = define_asset_job(
    "daily_snapshot_job",
    selection=AssetSelection.assets(*SNAPSHOT_KEYS, *SILVER_SNAPSHOT_KEYS, *GOLD_SNAPSHOT_KEYS, *GOLD_TICKETS_KEYS,
                                    *SERVING_TICKETS_KEYS),
    description="Capture the day's snapshot of the master-data, ticket, touch and survey files.",
)
monthly_billing_job = define_asset_job(
    "monthly_billing_job",
    selection=AssetSelection.assets(*BILLING_KEYS, *SILVER_BILLING_KEYS, *GOLD_BILLING_KEYS, *SERVING_BILLING_KEYS),
    description="Ingest the invoices of a month.",
)
STREAM_KEYS = [*usage_events_stream.keys, *speed_layer.keys]
usage_stream_job = define_asset_job(
    "usage_stream_job", selection=AssetSelection.assets(*STREAM_KEYS),
    tags={"cloud_analytics/stream": "true"},
    description="One stream trigger: ingest every usage-event file not yet seen into bronze, then the speed "
                "layer (windows, alerts, provisional serving rows).",
)
events_daily_job = define_asset_job(
    "events_daily_job",
    selection=AssetSelection.assets(*SILVER_EVENTS_KEYS, *GOLD_EVENTS_KEYS, *GOLD_360_KEYS, *SERVING_EVENTS_KEYS,
                                    *SERVING_360_KEYS, COST_BASELINES),
    description="Rebuild the usage-derived daily partitions (silver and, later, gold and serving).",
)
REFRESH_KEYS = [*SILVER_EVENTS_KEYS, *GOLD_EVENTS_KEYS, *SERVING_EVENTS_KEYS]
usage_refresh_job = define_asset_job(
    "usage_refresh_job",
    selection=AssetSelection.assets(*REFRESH_KEYS),
    description="Rebuild the usage-derived daily partitions a stream run touched (launched by a sensor).",
)
jobs = [daily_snapshot_job, monthly_billing_job, usage_stream_job, events_daily_job, usage_refresh_job]
ALL_ASSETS = [*csv_assets, usage_events_stream, *silver_assets, *gold_assets, *speed_assets, *serving_assets]


def pipeline_steps(instance: DagsterInstance, layers: tuple[str, ...] | None = None) -> list[dict]:
    """The runs of ``make run``, in dependency order (kwargs of ``runner.run_step``),
    optionally only those of some layers."""
    from cloud_analytics.runner import stream_run_key

    today = snapshot_daily.get_last_partition_key()
    months = billing_monthly.get_partition_keys()
    stream_key = stream_run_key()
    instance.add_dynamic_partitions(stream_runs.name, [stream_key])
    every = ALL_ASSETS
    steps = {"bronze": [
        dict(name=f"bronze snapshots {today}", assets=every, selection=SNAPSHOT_KEYS, partition_key=today),
        dict(name=f"bronze billing {months[0]}..{months[-1]}", assets=every, selection=BILLING_KEYS,
             partition_range=(months[0], months[-1])),
        dict(name=f"bronze usage stream + speed layer {stream_key}", assets=every, selection=STREAM_KEYS,
             partition_key=stream_key),
    ], "silver": [
        dict(name=f"silver snapshots {today}", assets=every, selection=SILVER_SNAPSHOT_KEYS, partition_key=today),
        dict(name=f"silver billing {months[0]}..{months[-1]}", assets=every, selection=SILVER_BILLING_KEYS,
             partition_range=(months[0], months[-1])),
        dict(name="silver usage events", assets=every, selection=SILVER_EVENTS_KEYS,
             partition_range=lambda previous: event_dates_to_rebuild(previous, "bronze", "silver")),
    ], "gold": [
        dict(name="gold usage marts", assets=every, selection=GOLD_EVENTS_KEYS,
             partition_range=lambda previous: event_dates_to_rebuild(previous, "silver", "gold")),
        dict(name="gold customer 360", assets=every, selection=GOLD_360_KEYS,
             partition_range=lambda previous: newest_event_date(previous)),
        dict(name=f"gold billing marts {months[0]}..{months[-1]}", assets=every, selection=GOLD_BILLING_KEYS,
             partition_range=(months[0], months[-1])),
        dict(name="gold ticket marts", assets=every, selection=GOLD_TICKETS_KEYS,
             partition_range=lambda previous: ticket_dates()),
        dict(name=f"gold snapshot summaries {today}", assets=every, selection=GOLD_SNAPSHOT_KEYS,
             partition_key=today),
        dict(name="gold cost baselines", assets=every, selection=[COST_BASELINES]),
    ], "serving": [
        dict(name="serving usage tables", assets=every, selection=SERVING_EVENTS_KEYS,
             partition_range=lambda previous: range_of(previous, "gold usage marts")),
        dict(name="serving customer health", assets=every, selection=SERVING_360_KEYS,
             partition_range=lambda previous: newest_event_date(previous)),
        dict(name=f"serving revenue {months[0]}..{months[-1]}", assets=every, selection=SERVING_BILLING_KEYS,
             partition_range=(months[0], months[-1])),
        dict(name="serving tickets", assets=every, selection=SERVING_TICKETS_KEYS,
             partition_range=lambda previous: ticket_dates()),
    ]}
    return [step for layer, layer_steps in steps.items() if layers is None or layer in layers
            for step in layer_steps]


def _read_layer(layer: str, table: str):
    """A lake table as a DataFrame, or None when it does not exist yet (the session is shared)."""
    from cloud_analytics.config import load_settings
    from cloud_analytics.delta_io import table_exists
    from cloud_analytics.resources.spark import get_spark

    settings = load_settings()
    spark = get_spark(settings)
    path = settings.layer_path(layer, table)
    return spark.read.format("delta").load(path) if table_exists(spark, path) else None


def _event_dates(layer: str) -> set[str]:
    table, column = {"bronze": ("usage_events", "event_date"), "silver": ("usage_events", "event_date"),
                     "gold": ("org_daily_usage_by_service", "usage_date")}[layer]
    df = _read_layer(layer, table)
    return set() if df is None else {r[0].isoformat() for r in df.select(column).distinct().collect()}


def _touched(previous: list) -> set[str]:
    return {d for step in previous for asset, meta in step.materializations.items()
            if asset == "bronze/usage_events" for d in meta.get("dates_touched", [])}


def event_dates_to_rebuild(previous: list, upstream: str, downstream: str) -> tuple[str, str] | None:
    """The daily range a usage-derived layer must rebuild: the dates the stream run just
    touched, plus any date the upstream layer holds that the downstream one does not have yet
    (a first run, or a run that stopped half-way). None when there is nothing to do."""
    todo = _touched(previous) | (_event_dates(upstream) - _event_dates(downstream))
    return (min(todo), max(todo)) if todo else None


def ticket_dates() -> tuple[str, str] | None:
    """The days the ticket marts have rows for: from the first ticket opened to the last one
    resolved, within the partitions (not the whole calendar: fewer partitions to record)."""
    from pyspark.sql import functions as F

    tickets = _read_layer("silver", "support_tickets")
    if tickets is None:
        return None
    row = tickets.agg(
        F.min("created_at").alias("first"), F.greatest(F.max("created_at"), F.max("resolved_at")).alias("last")).first()
    if row["first"] is None:
        return None
    keys = snapshot_daily.get_partition_keys()
    first, last = max(row["first"].isoformat(), keys[0]), min(row["last"].isoformat(), keys[-1])
    return (first, last)


def range_of(previous: list, step_prefix: str) -> tuple[str, str] | None:
    """The range an earlier step of this run covered; without that step (a serving-only run),
    every date gold holds."""
    for step in previous:
        if step.name.startswith(step_prefix):
            return step.partition_range
    dates = _event_dates("gold")
    return (min(dates), max(dates)) if dates else None


def newest_event_date(previous: list) -> tuple[str, str] | None:
    """customer_360 (and its serving table) is rebuilt as of the newest event date."""
    dates = _event_dates("silver")
    return (max(dates), max(dates)) if dates else None
