"""The schedules' ticks, with Dagster's schedule testing utilities: each tick is evaluated as the
daemon does (``evaluate_tick`` with the repository, so a partition key the job does not have
would fail) against a Dagster instance in a known state, and the partition or range it selects is
the one worked out by hand below from that state (never by asking ``runner.plan``).

The state is written with ``report_runless_asset_event``: which dates the stream runs touched
(``dates_touched`` of ``bronze/usage_events``) and which partitions of which assets are built.
The instance is a temporary one on disk rather than an in-memory ephemeral one: a schedule
context hands the schedule its instance through an instance reference, which only an instance
with a home has.
"""

from __future__ import annotations

from datetime import date, datetime, time, timezone

import pytest
from dagster import AssetKey, AssetMaterialization, DagsterInstance, DefaultScheduleStatus, build_schedule_context

from cloud_analytics.orchestration.catalog import is_partitioned
from cloud_analytics.orchestration.jobs import BILLING_KEYS, REFRESH_KEYS
from cloud_analytics.orchestration.schedules import schedules

pytestmark = pytest.mark.fast
USAGE_EVENTS = AssetKey(["bronze", "usage_events"])
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
BY_NAME = {s.name: s for s in schedules}
# The jobs' partitioned assets (what "built" means for a partition; the shared unpartitioned tables have none).
BILLING = [k for k in BILLING_KEYS if is_partitioned(k)]
REFRESH = [k for k in REFRESH_KEYS if is_partitioned(k)]


@pytest.fixture(scope="module")
def repository(settings):
    from cloud_analytics.definitions import build_definitions

    return build_definitions(settings).get_repository_def()


@pytest.fixture
def instance(tmp_path):
    from cloud_analytics.orchestration.runner import relax_sqlite_durability

    relax_sqlite_durability()  # as every pipeline run does: no fsync per event (a second instead of ten)
    with DagsterInstance.local_temp(tempdir=str(tmp_path)) as instance:
        yield instance


def _today() -> date:
    return datetime.now(timezone.utc).date()


def _tick(name: str, instance, repository, day: date | None = None):
    """Evaluate the schedule's tick of ``day`` (default today, UTC) at its cron time; the run
    requests (or the skip message) as the daemon would get them."""
    schedule = BY_NAME[name]
    minute, hour = (int(x) for x in schedule.cron_schedule.split()[:2])
    at = datetime.combine(day or _today(), time(hour, minute), tzinfo=timezone.utc)
    with build_schedule_context(instance=instance, scheduled_execution_time=at, repository_def=repository) as context:
        return schedule.evaluate_tick(context)


def _built(instance, keys, partitions) -> None:
    for key in keys:
        for partition in partitions:
            instance.report_runless_asset_event(AssetMaterialization(key, partition=partition))


def _touched(instance, *dates: str) -> None:
    """A stream run that touched ``dates``."""
    instance.report_runless_asset_event(AssetMaterialization(USAGE_EVENTS, metadata={"dates_touched": list(dates)}))


def _only(data):
    assert data.skip_message is None, data.skip_message
    [request] = data.run_requests
    return request


def test_the_schedules_their_jobs_and_times():
    assert {s.name: (s.job_name, s.cron_schedule, s.execution_timezone) for s in schedules} == {
        "daily_snapshot_schedule": ("daily_snapshot_job", "30 0 * * *", "UTC"),
        "tickets_schedule": ("tickets_job", "45 0 * * *", "UTC"),
        "usage_refresh_schedule": ("usage_refresh_job", "0 1 * * *", "UTC"),
        "customer_health_schedule": ("customer_health_job", "30 1 * * *", "UTC"),
        "monthly_billing_schedule": ("monthly_billing_job", "0 2 1 * *", "UTC"),
    }
    assert {s.default_status for s in schedules} == {DefaultScheduleStatus.STOPPED}


def test_the_snapshot_tick_captures_todays_snapshot_whatever_is_built(instance, repository):
    today = _today()
    first = _only(_tick("daily_snapshot_schedule", instance, repository))
    _built(instance, [AssetKey(["silver", "resources"])], [today.isoformat()])
    again = _only(_tick("daily_snapshot_schedule", instance, repository))
    if _today() != today:
        pytest.skip("the UTC day changed during the test")
    for request in (first, again):
        assert request.partition_key == today.isoformat()
        assert request.tags["dagster/partition"] == today.isoformat() and RANGE_START not in request.tags
        assert request.run_key == f"daily_snapshot_job {today}@{today}T00:30"


def test_the_tickets_tick_rebuilds_the_unpartitioned_ticket_marts_once_a_day(instance, repository):
    today = _today()
    request = _only(_tick("tickets_schedule", instance, repository))
    assert request.partition_key is None and RANGE_START not in request.tags
    assert request.run_key == f"tickets_job@{today}T00:45"  # one run per tick: the tick time tells them apart


def _months_to(last: date) -> list[str]:
    """Every billing month from the first (2025-06) to ``last``'s, as partition keys."""
    months, year, month = [], 2025, 6
    while (year, month) <= (last.year, last.month):
        months.append(date(year, month, 1).isoformat())
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def test_the_billing_tick_backfills_missing_months_with_the_current_one(instance, repository):
    today = _today()
    current = today.replace(day=1).isoformat()

    def window():
        request = _only(_tick("monthly_billing_schedule", instance, repository, today.replace(day=1)))
        assert request.partition_key is None
        return request.tags[RANGE_START], request.tags[RANGE_END], request.run_key

    # Nothing built: every month since the first, in one range run.
    assert window() == ("2025-06-01", current, f"monthly_billing_job 2025-06-01..{current}@{current}T02:00")
    # Every month built by every billing asset but 2025-09 of the revenue serving table: from it on.
    months = _months_to(today)
    _built(instance, BILLING, [m for m in months if m != "2025-09-01"])
    _built(instance, [k for k in BILLING if k != AssetKey(["serving", "revenue_by_org"])], ["2025-09-01"])
    assert window()[:2] == ("2025-09-01", current)
    # Every month built: the current month again (its invoices may have changed); never a skip.
    _built(instance, [AssetKey(["serving", "revenue_by_org"])], ["2025-09-01"])
    assert window() == (current, current, f"monthly_billing_job {current}@{current}T02:00")
    if _today() != today:
        pytest.skip("the UTC day changed during the test")


def test_the_refresh_tick_rebuilds_touched_dates_not_built_and_skips_when_all_are(instance, repository):
    today = _today()
    # No stream run yet: nothing to rebuild.
    skipped = _tick("usage_refresh_schedule", instance, repository)
    assert skipped.run_requests == [] and skipped.skip_message == "usage_refresh_job: nothing to rebuild"

    # Two stream runs touched three dates, none built: one range run over all three.
    _touched(instance, "2025-07-05", "2025-07-03")
    _touched(instance, "2025-07-09")
    request = _only(_tick("usage_refresh_schedule", instance, repository))
    assert (request.tags[RANGE_START], request.tags[RANGE_END]) == ("2025-07-03", "2025-07-09")
    assert request.partition_key is None and request.run_key == f"usage_refresh_job 2025-07-03..2025-07-09@{today}T01:00"

    # All built but 2025-07-05 of one gold mart (a run that stopped half-way): that day alone.
    stopped = AssetKey(["gold", "cost_anomaly_mart"])
    _built(instance, REFRESH, ["2025-07-03", "2025-07-09"])
    _built(instance, [k for k in REFRESH if k != stopped], ["2025-07-05"])
    request = _only(_tick("usage_refresh_schedule", instance, repository))
    assert (request.tags[RANGE_START], request.tags[RANGE_END]) == ("2025-07-05", "2025-07-05")

    # Every touched date built by every asset of the job: a skip, with its reason.
    _built(instance, [stopped], ["2025-07-05"])
    skipped = _tick("usage_refresh_schedule", instance, repository)
    assert skipped.run_requests == [] and skipped.skip_message == "usage_refresh_job: nothing to rebuild"


def test_the_health_tick_rebuilds_as_of_the_newest_event_date_and_skips_without_events(instance, repository):
    today = _today()
    skipped = _tick("customer_health_schedule", instance, repository)
    assert skipped.run_requests == [] and skipped.skip_message == "customer_health_job: nothing to rebuild"

    _touched(instance, "2025-07-03", "2025-08-31")
    _touched(instance, "2025-08-02")
    request = _only(_tick("customer_health_schedule", instance, repository))
    assert (request.tags[RANGE_START], request.tags[RANGE_END]) == ("2025-08-31", "2025-08-31")
    assert request.run_key == f"customer_health_job 2025-08-31@{today}T01:30"
