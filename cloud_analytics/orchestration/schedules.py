"""Schedules: each tick asks the same planning function as ``make run`` (``runner.plan``) what
its job must rebuild now, so a schedule, a sensor and ``make run`` never disagree on dates.
Stopped by default: turn them on in the UI (or set the default in production) once the landing
feed is wired. A past range is backfilled from the UI (the jobs' assets have single-run
backfill policies)."""

from __future__ import annotations

from dagster import RunRequest, ScheduleEvaluationContext, SkipReason, schedule

from cloud_analytics.orchestration.jobs import BILLING_JOB, HEALTH_JOB, JOB_KEYS, REFRESH_JOB, SNAPSHOT_JOB, TICKETS_JOB
from cloud_analytics.orchestration.runner import plan, range_tags

# (job, cron, what the tick does); times in UTC, after the landing files of the day arrive.
_TICKS = (
    (SNAPSHOT_JOB, "30 0 * * *", "Capture the day's master-data snapshots and what derives from them."),
    (TICKETS_JOB, "45 0 * * *", "Rebuild the ticket marts from the day's tickets snapshot."),
    (REFRESH_JOB, "0 1 * * *", "Rebuild any usage-derived day a stream run touched that is not built yet."),
    (HEALTH_JOB, "30 1 * * *", "Rebuild customer 360 as of the newest event date and the cost baselines."),
    (BILLING_JOB, "0 2 1 * *", "Ingest the month's invoices (and any month missing) and rebuild revenue."),
)


def _planned(job: str, cron: str, description: str):
    @schedule(name=f"{job.removesuffix('_job')}_schedule", job_name=job, cron_schedule=cron,
              execution_timezone="UTC", description=description)
    def _tick(context: ScheduleEvaluationContext):
        planned = plan(job, JOB_KEYS[job], context.instance, touched=set())
        if planned is None:
            return SkipReason(f"{job}: nothing to rebuild")
        # One run per tick: an unpartitioned job's label is the same every day, the tick time is not.
        tick = context.scheduled_execution_time
        return RunRequest(run_key=planned.label + (f"@{tick:%Y-%m-%dT%H:%M}" if tick else ""),
                          partition_key=planned.partition_key, tags=range_tags(planned.partition_range))

    return _tick


schedules = [_planned(*tick) for tick in _TICKS]
