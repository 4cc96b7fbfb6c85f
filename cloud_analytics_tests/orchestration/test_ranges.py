"""The planning functions on hand-written facts: what each path (make run, sensors, schedules)
rebuilds for the same facts."""

import pytest

from cloud_analytics.orchestration.ranges import (
    Plan,
    dates_to_rebuild,
    latest,
    missing_and_latest,
    newest_date,
    span,
)

pytestmark = pytest.mark.fast
MONTHS = ["2025-06-01", "2025-07-01", "2025-08-01", "2025-09-01"]


def test_span_and_latest():
    assert span([]) is None
    assert span(["2025-07-03", "2025-07-01", "2025-07-02"]) == ("2025-07-01", "2025-07-03")
    assert latest(MONTHS) == ("2025-09-01", "2025-09-01") and latest([]) is None


def test_a_first_run_backfills_every_month_and_later_runs_only_the_current_one():
    assert missing_and_latest(MONTHS, set()) == ("2025-06-01", "2025-09-01")
    assert missing_and_latest(MONTHS, set(MONTHS)) == ("2025-09-01", "2025-09-01")
    # A month that failed earlier is picked up again, with the current one.
    assert missing_and_latest(MONTHS, {"2025-06-01", "2025-08-01", "2025-09-01"}) == ("2025-07-01", "2025-09-01")


def test_dates_to_rebuild_are_the_touched_dates_plus_any_date_not_built_yet():
    ever = {"2025-07-01", "2025-07-02", "2025-07-03", "2025-07-10"}
    built = {"silver/usage_events": set(ever), "gold/org_daily_usage_by_service": set(ever)}
    assert dates_to_rebuild(set(), ever, built) is None
    assert dates_to_rebuild({"2025-07-02"}, ever, built) == ("2025-07-02", "2025-07-02")
    # gold stopped half-way: its missing day joins the range even though nothing new was touched
    half = {**built, "gold/org_daily_usage_by_service": ever - {"2025-07-10"}}
    assert dates_to_rebuild(set(), ever, half) == ("2025-07-10", "2025-07-10")
    assert dates_to_rebuild({"2025-07-01"}, ever, half) == ("2025-07-01", "2025-07-10")
    # a first run: nothing built, everything the stream touched
    assert dates_to_rebuild(ever, ever, {"silver/usage_events": set()}) == ("2025-07-01", "2025-07-10")


def test_customer_health_is_as_of_the_newest_event_date():
    assert newest_date(set()) is None
    assert newest_date({"2025-08-31", "2025-07-01"}) == ("2025-08-31", "2025-08-31")


def test_plan_labels():
    assert Plan("usage_refresh_job", partition_range=("2025-07-01", "2025-07-03")).label == \
        "usage_refresh_job 2025-07-01..2025-07-03"
    assert Plan("daily_snapshot_job", partition_key="2026-11-30").label == "daily_snapshot_job 2026-11-30"
    assert Plan("customer_health_job", partition_range=("2025-08-31", "2025-08-31")).label == \
        "customer_health_job 2025-08-31"


def test_a_refresh_is_followed_by_health_the_whole_anomaly_history_and_its_months_reconciliation():
    from cloud_analytics.orchestration.jobs import ANOMALY_KEYS, RECONCILIATION_KEYS
    from cloud_analytics.orchestration.ranges import follow_ups

    from cloud_analytics.orchestration.jobs import SNAPSHOT_USAGE_KEYS

    ever = {"2025-07-03", "2025-07-20", "2025-08-31"}
    plans = follow_ups(("2025-07-20", "2025-08-02"), ever, MONTHS, snapshot_day="2026-12-01")
    assert [(p.job, p.partition_range, p.selection) for p in plans] == [
        ("customer_health_job", ("2025-08-31", "2025-08-31"), ()),
        ("usage_refresh_job", ("2025-07-03", "2025-08-31"), tuple(ANOMALY_KEYS)),
        ("monthly_billing_job", ("2025-07-01", "2025-08-01"), tuple(RECONCILIATION_KEYS)),
        ("daily_snapshot_job", ("2026-12-01", "2026-12-01"), tuple(SNAPSHOT_USAGE_KEYS)),
    ]
    assert {k.to_user_string() for k in ANOMALY_KEYS} == {"gold/cost_anomaly_mart", "serving/cost_anomalies_by_org",
                                                          "serving/platform_cost_by_day"}
    assert [k.to_user_string() for k in RECONCILIATION_KEYS] == ["gold/cost_vs_billing_reconciliation"]
    assert [k.to_user_string() for k in SNAPSHOT_USAGE_KEYS] == ["gold/resource_utilization"]


def test_a_refresh_of_the_whole_history_needs_no_anomaly_follow_up_and_nothing_follows_no_refresh():
    from cloud_analytics.orchestration.ranges import follow_ups

    plans = follow_ups(("2025-07-03", "2025-08-31"), {"2025-07-03", "2025-08-31"}, MONTHS)
    assert [p.job for p in plans] == ["customer_health_job", "monthly_billing_job"]
    assert plans[1].partition_range == ("2025-07-01", "2025-08-01")
    assert follow_ups(None, {"2025-07-03"}, MONTHS) == []
    # A date the refresh covered that the instance has not recorded yet still counts as history.
    assert follow_ups(("2025-09-02", "2025-09-02"), set(), MONTHS)[0].partition_range == ("2025-09-02", "2025-09-02")
