"""Sensors: new event files trigger a stream run; the dates stream runs touched trigger the
rebuild of exactly those usage-derived daily partitions (silver, gold, serving), chosen by the
same planning function as ``make run`` (``ranges.dates_to_rebuild``); a refresh that succeeded
triggers its follow-ups (``ranges.follow_ups``, as ``make run`` runs them); a run whose process
died without its code server noticing is failed, then retried (``watchdog.py``).

The file sensor's cursor is the set of file names already handed to a stream run (not the
newest mtime: files may land out of order). What counts as a complete landed file is defined
once (``landing.files``) and shared with the audit; the stream's own checkpoint is what
guarantees exactly-once, so a file seen twice costs an idle trigger, never a duplicate.
A stream run reads every file present when its bronze query starts, so while one is waiting
to start (queued, or its process starting) new files are handed to it instead of queueing
another run: under a steady feed at most one stream run waits, never a line of runs that
would find nothing left to read (each still costing a run's start-up).
The landing folder comes from the injected ``lake`` resource; the interval from settings, given
by ``definitions.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

from dagster import (
    DagsterRunStatus,
    DefaultRunLauncher,
    DefaultSensorStatus,
    RunRequest,
    RunsFilter,
    RunStatusSensorContext,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    run_status_sensor,
    sensor,
)

from cloud_analytics.bronze.specs import EVENTS_DIR
from cloud_analytics.landing.files import complete_event_files
from cloud_analytics.orchestration import ranges
from cloud_analytics.orchestration.jobs import (
    BILLING_JOB, FOLLOW_UP_TAG, FOLLOW_UP_TAGS, HEALTH_JOB, REFRESH_JOB, REFRESH_KEYS, SNAPSHOT_JOB, STREAM_JOB, jobs,
)
from cloud_analytics.orchestration.runner import (
    RANGE_END_TAG, RANGE_START_TAG, materialized, newest_snapshot, range_tags, stream_run_key, touched_dates,
)
from cloud_analytics.orchestration.watchdog import fail_dead_runs
from cloud_analytics.partitions import billing_monthly, stream_runs
from cloud_analytics.resources.lake import LakeResource

# A stream run goes ahead of queued refreshes: it is what a landed file's latency waits for.
STREAM_TAGS = {"cloud_analytics/stream": "true", "dagster/max_retries": "3", "dagster/priority": "1"}
# A stream run in these states has not started reading the landing folder yet.
WAITING_TO_START = [DagsterRunStatus.NOT_STARTED, DagsterRunStatus.QUEUED, DagsterRunStatus.STARTING]
PARENT_RUN_TAG = "dagster/parent_run_id"  # set on a retry of an earlier run
PARTITION_TAG = "dagster/partition"
REFRESH_TAGS = {"cloud_analytics/refresh": "true", "dagster/max_retries": "2"}
FOLLOW_UP_RUN_TAGS = {**FOLLOW_UP_TAGS, "dagster/max_retries": "2"}
_JOBS = {job.name: job for job in jobs}


def _follow_up_signature(job: str, tags, selection) -> tuple:
    """What makes two follow-up runs the same work: job, range and asset selection."""
    return (job, tags.get(RANGE_START_TAG), tags.get(RANGE_END_TAG),
            tuple(sorted(k.to_user_string() for k in selection or ())))


def build_sensors(interval_s: int = 30, on: bool = True) -> list:
    """The sensors, evaluated every ``interval_s``; ``on``: whether they start switched on (the
    UI's switch wins once used; CLOUD_ANALYTICS_SENSORS)."""
    status = DefaultSensorStatus.RUNNING if on else DefaultSensorStatus.STOPPED

    @sensor(job_name=STREAM_JOB, minimum_interval_seconds=interval_s, default_status=status,
            description="Launches a usage-event stream run when new complete files land in the landing folder.")
    def usage_event_files_sensor(context: SensorEvaluationContext, lake: LakeResource):
        folder = Path(lake.landing_path(EVENTS_DIR))
        if not folder.is_dir():
            return SkipReason(f"landing folder {folder} does not exist yet")
        seen = set(json.loads(context.cursor)) if context.cursor else set()
        new = [p.name for p in complete_event_files(folder) if p.name not in seen]
        if not new:
            return SkipReason(f"no new event files in {folder} ({len(seen)} already ingested)")
        cursor = json.dumps(sorted(seen | set(new)))
        # A retry re-executes the failed steps only, so only a first attempt surely reads the folder.
        waiting = [r for r in context.instance.get_run_records(
            RunsFilter(job_name=STREAM_JOB, statuses=WAITING_TO_START), limit=10)
            if PARENT_RUN_TAG not in r.dagster_run.tags]
        if waiting:  # the files were listed before this check, so that run's bronze query will see them
            run_id = waiting[0].dagster_run.run_id
            return SensorResult(skip_reason=SkipReason(
                f"{len(new)} new event files will be read by stream run {run_id[:8]}, which has not started yet"),
                cursor=cursor)
        key = stream_run_key()
        context.log.info(f"{len(new)} new event files: {', '.join(new[:5])}{' …' if len(new) > 5 else ''}")
        return SensorResult(
            run_requests=[RunRequest(run_key=f"stream-{key}", partition_key=key, tags=STREAM_TAGS)],
            dynamic_partitions_requests=[stream_runs.build_add_request([key])],
            cursor=cursor,
        )

    @sensor(job_name=REFRESH_JOB, minimum_interval_seconds=interval_s, default_status=status,
            description="After a stream run, rebuilds the silver, gold and serving daily partitions of the dates "
                        "it touched (and any touched date not built yet).")
    def touched_dates_sensor(context: SensorEvaluationContext):
        waiting = context.instance.get_run_records(
            RunsFilter(job_name=REFRESH_JOB, statuses=WAITING_TO_START), limit=1)
        if waiting:
            # One refresh waits at a time: the dates touched meanwhile go to the next one, requested
            # when this one starts (the cursor stays), instead of a line of refreshes competing with
            # the stream runs for the same cores.
            return SkipReason(f"refresh run {waiting[0].dagster_run.run_id[:8]} has not started yet")
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

    @run_status_sensor(
        run_status=DagsterRunStatus.SUCCESS, name="refresh_follow_up_sensor", minimum_interval_seconds=interval_s,
        monitored_jobs=[_JOBS[REFRESH_JOB]],
        request_jobs=[_JOBS[j] for j in (HEALTH_JOB, REFRESH_JOB, BILLING_JOB, SNAPSHOT_JOB)],
        default_status=status,
        description="After a usage refresh succeeds, rebuilds what derives from its dates outside their partitions: "
                    "customer 360 as of the newest event date, the anomaly mart over every date (whole-history "
                    "baselines), the billing reconciliation of the refreshed months and the newest snapshot of "
                    "resource utilization.")
    def refresh_follow_up_sensor(context: RunStatusSensorContext):
        run = context.dagster_run
        if FOLLOW_UP_TAG in run.tags:
            return SkipReason(f"run {run.run_id[:8]} is itself a follow-up")
        if RANGE_START_TAG in run.tags:
            refreshed = (run.tags[RANGE_START_TAG], run.tags[RANGE_END_TAG])
        elif PARTITION_TAG in run.tags:  # one partition, launched from the UI
            refreshed = (run.tags[PARTITION_TAG],) * 2
        else:
            return SkipReason(f"refresh run {run.run_id[:8]} names no partition")
        ever, _ = touched_dates(context.instance)
        plans = ranges.follow_ups(refreshed, ever, billing_monthly.get_partition_keys(),
                                  newest_snapshot(context.instance))
        # Under a steady feed every refresh asks for the same follow-ups (customer health as of the
        # newest date, the whole anomaly history...): one waiting to start already does the work.
        waiting = {_follow_up_signature(r.dagster_run.job_name, r.dagster_run.tags, r.dagster_run.asset_selection)
                   for r in context.instance.get_run_records(
                       RunsFilter(tags=FOLLOW_UP_TAGS, statuses=WAITING_TO_START), limit=50)}
        todo = [p for p in plans if _follow_up_signature(p.job, range_tags(p.partition_range), p.selection)
                not in waiting]
        if not todo:
            return SkipReason(f"the follow-ups of refresh {run.run_id[:8]} are already waiting to start")
        return [RunRequest(run_key=f"follow-up-{run.run_id}-{plan.job}", job_name=plan.job,
                           asset_selection=list(plan.selection) or None,
                           tags={**range_tags(plan.partition_range), **FOLLOW_UP_RUN_TAGS}) for plan in todo]

    @sensor(name="run_watchdog_sensor", minimum_interval_seconds=interval_s, default_status=status,
            description="Fails the runs whose process died with its code server (SIGKILL, out of memory), which would "
                        "otherwise stay STARTED and block the run queue; the retries then start them again "
                        "(orchestration/watchdog.py). Default run launcher on Linux only.")
    def run_watchdog_sensor(context: SensorEvaluationContext):
        if type(context.instance.run_launcher) is not DefaultRunLauncher:
            return SkipReason(f"runs are launched by {type(context.instance.run_launcher).__name__}, which Dagster's "
                              "run monitoring watches")
        dead = fail_dead_runs(context.instance)
        for d in dead:
            context.log.warning(f"run {d.run.run_id[:8]} ({d.run.job_name}): {d.why}; marked failed")
        return SkipReason(f"failed {len(dead)} dead runs: {', '.join(d.run.run_id[:8] for d in dead)}" if dead
                          else "every started run has a live process")

    return [usage_event_files_sensor, touched_dates_sensor, refresh_follow_up_sensor, run_watchdog_sensor]
