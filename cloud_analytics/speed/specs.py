"""The speed layer's Delta tables, declared once and Dagster-free.

One stream run (a ``stream_runs`` partition, shared with the bronze ingest) appends to all of
them; each is partitioned in Delta by the date column its spec names. Their Delta schemas
are rendered from these specs (``lib.spec.ddl``), so the declared columns are the stored ones, in
order. ``_stream_state`` is the stream's own bookkeeping (one row per micro-batch: the
watermark the next batch uses), not an asset: it is declared apart, in ``STREAM_STATE``.

The two Cassandra tables the speed layer writes (``usage_alerts_by_org`` and the speed view
rows) are serving tables: ``serving/specs.py`` declares them.
"""

from __future__ import annotations

from cloud_analytics.lib.spec import Dep, TableSpec, by_name, columns
from cloud_analytics.lib.table_checks import key_unique
from cloud_analytics.speed.checks import EVERY_ROW_SEEN, WINDOWS_CONSERVE
from cloud_analytics.speed.windows import CATCH_UP_HORIZON, SLIDE, WATERMARK_DELAY, WINDOW

_BATCH = ("batch_id", "bigint", "The micro-batch of the speed checkpoint that wrote the row.")
_RUN = ("stream_run", "string", "The stream trigger (Dagster partition) that wrote the row.")
_ORG = ("org_id", "string", "Customer organization id.")
_SERVICE = ("service", "string", "Canonical service name (`unknown` when not recognized).")
_BRONZE = Dep("bronze/usage_events")
_WINDOW_START = ("window_start", "timestamp", "Start of the sliding window (inclusive).")
_WINDOW_END = ("window_end", "timestamp", "End of the window (exclusive).")
_WINDOW_DATE = ("window_date", "date", "UTC day of window_start; the Delta partition.")

USAGE_WINDOWS = TableSpec(
    layer="speed", name="usage_windows",
    description=f"Sliding windows ({WINDOW}, every {SLIDE}) of cost, requests and events per org and service, "
    f"from on-time rows (watermark: newest event time of earlier batches minus {WATERMARK_DELAY}, at most "
    f"{CATCH_UP_HORIZON} behind the newest event seen); one partial row per window and "
    "micro-batch (sum them, see speed/windows.py).",
    grain="one row per window, org, service and micro-batch of a stream run",
    columns=columns(
        _WINDOW_START, _WINDOW_END, _ORG, _SERVICE,
        ("cost_usd", "decimal(18,6)", "Cost of the batch's on-time events in the window."),
        ("requests", "double", "Requests of those events (0 when none measured requests)."),
        ("event_count", "bigint", "On-time events of the batch in the window."),
        _BATCH, _RUN,
        _WINDOW_DATE,
    ),
    key=("stream_run", "batch_id", "window_start", "org_id", "service"),
    partitions="stream_runs", partition_column="window_date", deps=(_BRONZE,),
    checks=(EVERY_ROW_SEEN, WINDOWS_CONSERVE),
)

CLOSED_WINDOWS = TableSpec(
    layer="speed", name="closed_windows",
    description=f"Sliding windows ({WINDOW}, every {SLIDE}) that can take no more on-time rows (their end is at or "
    f"before the newest event time seen minus {WATERMARK_DELAY}), one final row each: the sum of their partials, "
    "which then leave speed/usage_windows so that table holds only open windows.",
    grain="one row per closed window, org and service",
    columns=columns(
        _WINDOW_START, _WINDOW_END, _ORG, _SERVICE,
        ("cost_usd", "decimal(18,6)", "Cost of the window's on-time events."),
        ("requests", "double", "Requests of those events."),
        ("event_count", "bigint", "On-time events in the window."),
        ("partials", "bigint", "Partial rows (micro-batches) summed into the window."),
        ("batch_id", "bigint", "The micro-batch that closed the window."), _RUN,
        _WINDOW_DATE,
    ),
    key=("window_start", "org_id", "service"),
    partitions="stream_runs", partition_column="window_date", deps=(Dep("speed/usage_windows"),),
    # A window closed twice would count its events twice in the live view and the conservation law.
    checks=(key_unique("window_start", "org_id", "service"),),
)

LATE_ROWS = TableSpec(
    layer="speed", name="late_rows",
    description="Rows older than the watermark, counted per org, service and micro-batch: left to the batch "
    "layer, never dropped from the lake.",
    grain="one row per org, service and micro-batch of a stream run",
    columns=columns(
        _ORG, _SERVICE,
        ("late_rows", "bigint", "Events of the batch older than the watermark."),
        ("late_cost_usd", "decimal(18,6)", "Their cost."),
        ("watermark", "timestamp", "The batch's watermark."),
        _BATCH, _RUN,
        ("late_date", "date", "UTC day the rows were counted; the Delta partition."),
    ),
    key=("stream_run", "batch_id", "org_id", "service"),
    partitions="stream_runs", partition_column="late_date", deps=(_BRONZE,),
    # A replayed micro-batch appends its late counts once (by transaction id), never twice.
    checks=(key_unique("stream_run", "batch_id", "org_id", "service"),),
)

USAGE_ALERTS = TableSpec(
    layer="speed", name="usage_alerts",
    description="Enriched events whose cost breaks the batch layer's baseline (robust z-score), with the reason.",
    grain="one row per alert (alert_id = cost:<event_id>)",
    columns=columns(
        ("alert_id", "string", "`cost:<event_id>`."),
        ("org_id", "string", "Customer organization id."),
        ("event_id", "string", "The bronze event."),
        ("event_ts", "timestamp", "Event time (UTC)."),
        ("event_date", "date", "UTC day of event_ts."),
        _SERVICE,
        ("resource_id", "string", "Cloud resource id."),
        ("cost_usd", "double", "The event's cost_usd_increment."),
        ("baseline_median_usd", "double", "Median event cost of the baseline scored against."),
        ("baseline_scope", "string", "`org_service` (the org's own baseline) or `service` (all orgs')."),
        ("robust_z", "double", "Robust z-score of the cost against that baseline."),
        ("threshold", "double", "The robust z-score above which an event alerts."),
        ("reason", "string", "Why the event is an alert, in words."),
        ("plan_tier", "string", "The org's current plan tier (null before silver ran)."),
        ("industry", "string", "The org's industry."),
        ("hq_region", "string", "The org's headquarters region."),
        ("resource_state", "string", "The resource's current state."),
        _RUN, _BATCH,
        ("alert_date", "date", "The event's UTC day; the Delta partition."),
    ),
    key=("alert_id",),
    partitions="stream_runs", partition_column="alert_date", deps=(_BRONZE, Dep("gold/cost_baselines")),
    # An alert is raised once per event, whatever the replays: a repeat would be delivered twice.
    checks=(key_unique("alert_id"),),
)

STREAM_STATE = TableSpec(
    layer="speed", name="_stream_state",
    description="One row per micro-batch of a speed checkpoint: its counts and the watermark.",
    grain="one row per checkpoint and micro-batch",
    columns=columns(
        ("checkpoint_id", "string", "The speed checkpoint's id (a reset checkpoint gets a new one)."),
        _BATCH, _RUN,
        ("rows", "bigint", "Events of the batch."),
        ("late_rows", "bigint", "Of those, older than the watermark."),
        ("quarantined_rows", "bigint", "Of the batch's events, below the minimum cost increment (EV-05 "
                                       "quarantines them): in no window, late count, alert or serving row."),
        ("window_rows", "bigint", "Window partial rows the batch wrote."),
        ("alerts", "bigint", "Alerts the batch raised."),
        ("batch_max_event_ts", "timestamp", "Newest event time of the batch."),
        ("max_event_ts", "timestamp", "Newest event time of the checkpoint so far."),
        ("watermark", "timestamp", "The watermark the batch used."),
        ("dates", "array<date>", "Event dates of the batch."),
        ("speed_rows", "map<string,bigint>", "Provisional rows the batch wrote, per Cassandra table."),
        ("phase_seconds", "map<string,double>", "Seconds the batch spent per phase (serve_spark, serve_cassandra, "
                                                "late, windows, live, alerts, ...)."),
        ("ingest_ts", "timestamp", "When the batch was processed."),
        ("state_date", "date", "UTC day of ingest_ts; the Delta partition."),
    ),
    key=("checkpoint_id", "batch_id"),
    partitions="stream_runs", partition_column="state_date", deps=(_BRONZE,),
)

# The speed layer's assets (materialized by ``speed/assets.py``'s stream asset).
SPEED_SPECS: tuple[TableSpec, ...] = (USAGE_WINDOWS, CLOSED_WINDOWS, LATE_ROWS, USAGE_ALERTS)
SPEED_BY_NAME: dict[str, TableSpec] = by_name(SPEED_SPECS)

