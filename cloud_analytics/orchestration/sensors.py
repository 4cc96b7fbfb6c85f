"""Sensors: new event files trigger a stream run; the dates stream runs touched trigger the
rebuild of exactly those usage-derived daily partitions (silver, gold, serving), chosen by the
same planning function as ``make run`` (``ranges.dates_to_rebuild``).

The file sensor's cursor is the set of file names already handed to a stream run (not the
newest mtime: files may land out of order). What counts as a complete landed file is defined
once (``landing.files``) and shared with the audit; the stream's own checkpoint is what
guarantees exactly-once, so a file seen twice costs an idle trigger, never a duplicate.
The landing folder comes from the injected ``lake`` resource; the interval from settings, given
by ``definitions.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

from dagster import (
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from cloud_analytics.bronze.specs import EVENTS_DIR
from cloud_analytics.landing.files import complete_event_files
from cloud_analytics.orchestration import ranges
from cloud_analytics.orchestration.jobs import REFRESH_JOB, REFRESH_KEYS, STREAM_JOB
from cloud_analytics.orchestration.runner import materialized, range_tags, stream_run_key, touched_dates
from cloud_analytics.partitions import stream_runs
from cloud_analytics.resources.lake import LakeResource

STREAM_TAGS = {"cloud_analytics/stream": "true", "dagster/max_retries": "3"}
REFRESH_TAGS = {"cloud_analytics/refresh": "true", "dagster/max_retries": "2"}


def build_sensors(interval_s: int = 30) -> list:
    @sensor(job_name=STREAM_JOB, minimum_interval_seconds=interval_s, default_status=DefaultSensorStatus.RUNNING,
            description="Launches a usage-event stream run when new complete files land in the landing folder.")
    def usage_event_files_sensor(context: SensorEvaluationContext, lake: LakeResource):
        folder = Path(lake.landing_path(EVENTS_DIR))
        if not folder.is_dir():
            return SkipReason(f"landing folder {folder} does not exist yet")
        seen = set(json.loads(context.cursor)) if context.cursor else set()
        new = [p.name for p in complete_event_files(folder) if p.name not in seen]
        if not new:
            return SkipReason(f"no new event files in {folder} ({len(seen)} already ingested)")
        key = stream_run_key()
        context.log.info(f"{len(new)} new event files: {', '.join(new[:5])}{' …' if len(new) > 5 else ''}")
        return SensorResult(
            run_requests=[RunRequest(run_key=f"stream-{key}", partition_key=key, tags=STREAM_TAGS)],
            dynamic_partitions_requests=[stream_runs.build_add_request([key])],
            cursor=json.dumps(sorted(seen | set(new))),
        )

    @sensor(job_name=REFRESH_JOB, minimum_interval_seconds=interval_s, default_status=DefaultSensorStatus.RUNNING,
            description="After a stream run, rebuilds the silver, gold and serving daily partitions of the dates "
                        "it touched (and any touched date not built yet).")
    def touched_dates_sensor(context: SensorEvaluationContext):
        last = int(context.cursor) if context.cursor else None
        touched, newest = touched_dates(context.instance, last)
        if newest == last:
            return SkipReason("no stream run since the last refresh" if last is not None
                              else "no stream run has materialized bronze/usage_events yet")
        ever, _ = touched_dates(context.instance)
        window = ranges.dates_to_rebuild(touched, ever, materialized(context.instance, REFRESH_KEYS))
        if window is None:
            return SensorResult(skip_reason=SkipReason("the stream runs since the last refresh touched no dates"),
                                cursor=str(newest))
        return SensorResult(
            run_requests=[RunRequest(run_key=f"refresh-{newest}", tags={**range_tags(window), **REFRESH_TAGS})],
            cursor=str(newest),
        )

    return [usage_event_files_sensor, touched_dates_sensor]
