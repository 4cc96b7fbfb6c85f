"""Sensors: new event files trigger a stream run; a stream run's touched dates trigger the
rebuild of exactly those usage-derived daily partitions (silver, gold, serving).

The file sensor's cursor is the set of file names already handed to a stream run (not the
newest mtime: files may land out of order). Files still being written (hidden temp names,
anything not ``*.jsonl``) are ignored; the stream's own checkpoint is what guarantees
exactly-once, so a file seen twice by the sensor costs an idle trigger, never a duplicate.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from dagster import (
    AssetRecordsFilter,
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from cloud_analytics.bronze.assets import USAGE_EVENTS
from cloud_analytics.bronze.schemas import EVENTS_DIR
from cloud_analytics.config import load_settings
from cloud_analytics.jobs import usage_refresh_job, usage_stream_job
from cloud_analytics.partitions import stream_runs
from cloud_analytics.runner import RANGE_END_TAG, RANGE_START_TAG, stream_run_key

INTERVAL_S = int(os.environ.get("CLOUD_ANALYTICS_SENSOR_INTERVAL", "30"))
STREAM_TAGS = {"cloud_analytics/stream": "true", "dagster/max_retries": "3"}


def complete_event_files(folder: Path) -> list[str]:
    """Event files fully landed: ``*.jsonl``, not hidden (producers write ``.name.tmp`` first)."""
    return sorted(p.name for p in folder.glob("*.jsonl") if not p.name.startswith((".", "_")) and p.is_file())


@sensor(job=usage_stream_job, minimum_interval_seconds=INTERVAL_S, default_status=DefaultSensorStatus.RUNNING,
        description="Launches a usage-event stream run when new complete files land in the landing folder.")
def usage_event_files_sensor(context: SensorEvaluationContext):
    folder = load_settings().landing / EVENTS_DIR
    if not folder.is_dir():
        return SkipReason(f"landing folder {folder} does not exist yet")
    seen = set(json.loads(context.cursor)) if context.cursor else set()
    new = [name for name in complete_event_files(folder) if name not in seen]
    if not new:
        return SkipReason(f"no new event files in {folder} ({len(seen)} already ingested)")
    key = stream_run_key()
    context.log.info(f"{len(new)} new event files: {', '.join(new[:5])}{' …' if len(new) > 5 else ''}")
    return SensorResult(
        run_requests=[RunRequest(run_key=f"stream-{key}", partition_key=key, tags=STREAM_TAGS)],
        dynamic_partitions_requests=[stream_runs.build_add_request([key])],
        cursor=json.dumps(sorted(seen | set(new))),
    )


@sensor(job=usage_refresh_job, minimum_interval_seconds=INTERVAL_S, default_status=DefaultSensorStatus.RUNNING,
        description="After a stream run, rebuilds the silver, gold and serving daily partitions of the dates it touched.")
def touched_dates_sensor(context: SensorEvaluationContext):
    last = int(context.cursor) if context.cursor else None
    records = context.instance.fetch_materializations(
        AssetRecordsFilter(asset_key=USAGE_EVENTS, after_storage_id=last), limit=1000, ascending=True).records
    if not records:
        return SkipReason("no stream run since the last refresh" if last is not None
                          else "no stream run has materialized bronze/usage_events yet")
    # Every stream run since the last refresh counts, not only the newest one.
    dates = sorted({d for r in records
                    for d in (getattr(r.asset_materialization.metadata.get("dates_touched"), "value", None) or [])})
    newest = str(records[-1].storage_id)
    if not dates:
        return SensorResult(skip_reason=SkipReason("the stream runs since the last refresh touched no dates"),
                            cursor=newest)
    return SensorResult(
        run_requests=[RunRequest(run_key=f"refresh-{newest}", tags={
            RANGE_START_TAG: dates[0], RANGE_END_TAG: dates[-1], "cloud_analytics/refresh": "true",
            "dagster/max_retries": "2"})],
        cursor=newest,
    )


sensors = [usage_event_files_sensor, touched_dates_sensor]
