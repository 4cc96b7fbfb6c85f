"""Schedules built from the partitioned jobs, so each tick targets the right partition and a
past range can be backfilled from the UI. Stopped by default: turn them on in the UI (or set
the default in production) once the landing feed is wired."""

from dagster import build_schedule_from_partitioned_job

from cloud_analytics.jobs import daily_snapshot_job, events_daily_job, monthly_billing_job

daily_snapshot_schedule = build_schedule_from_partitioned_job(
    daily_snapshot_job, hour_of_day=0, minute_of_hour=30,
    description="Capture the day's master-data snapshots and rebuild what derives from them.")
daily_events_schedule = build_schedule_from_partitioned_job(
    events_daily_job, hour_of_day=1, minute_of_hour=0,
    description="Rebuild the day's usage-derived partitions (batch layer) and customer 360.")
monthly_billing_schedule = build_schedule_from_partitioned_job(
    monthly_billing_job, day_of_month=1, hour_of_day=2, minute_of_hour=0,
    description="Ingest the month's invoices and rebuild the revenue marts and tables.")

schedules = [daily_snapshot_schedule, daily_events_schedule, monthly_billing_schedule]
