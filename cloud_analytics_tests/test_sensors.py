"""The sensors' decisions, with Dagster's sensor testing utilities."""

import json
import os

import pytest
from dagster import AssetKey, AssetMaterialization, DagsterInstance, SensorResult, SkipReason, build_sensor_context

from cloud_analytics.bronze.specs import USAGE_EVENTS as EVENTS_SPEC
from cloud_analytics.orchestration.runner import RANGE_END_TAG, RANGE_START_TAG
from cloud_analytics.orchestration.sensors import build_sensors
from cloud_analytics.resources.lake import LakeResource

pytestmark = pytest.mark.fast
usage_event_files_sensor, touched_dates_sensor, refresh_follow_up_sensor, run_watchdog_sensor = build_sensors(
    interval_s=5)
USAGE_EVENTS = AssetKey(EVENTS_SPEC.key_path)
LAKE = {}


@pytest.fixture
def landing(tmp_path):
    # The landing folder reaches the sensor through its injected resource, not the environment.
    LAKE["lake"] = LakeResource(root=str(tmp_path / "datalake"), landing=str(tmp_path / "landing"))
    return tmp_path / "landing" / "usage_events_stream"


def _evaluate(sensor, cursor=None, instance=None):
    resources = LAKE if sensor is usage_event_files_sensor else None
    if instance is None and sensor is usage_event_files_sensor:  # it looks for stream runs waiting to start
        with DagsterInstance.ephemeral() as empty:
            return _evaluate(sensor, cursor, empty)
    with build_sensor_context(cursor=cursor, instance=instance, resources=resources) as context:
        return sensor(context)


def test_the_interval_comes_from_settings():
    assert usage_event_files_sensor.minimum_interval_seconds == 5
    assert touched_dates_sensor.minimum_interval_seconds == 5


def test_missing_folder_and_nothing_new_are_skips_with_reasons(landing):
    result = _evaluate(usage_event_files_sensor)
    assert isinstance(result, SkipReason) and "does not exist" in result.skip_message
    landing.mkdir(parents=True)
    (landing / "events_part_0000.jsonl").write_text("{}\n")
    seen = json.dumps(["events_part_0000.jsonl"])
    result = _evaluate(usage_event_files_sensor, cursor=seen)
    assert isinstance(result, SkipReason) and "no new event files" in result.skip_message


def test_new_files_request_one_stream_run_and_the_cursor_advances(landing):
    landing.mkdir(parents=True)
    for name in ("events_part_0000.jsonl", "events_part_0001.jsonl"):
        (landing / name).write_text("{}\n")
    (landing / ".events_part_0002.jsonl.tmp").write_text("{")  # still being written
    (landing / "notes.txt").write_text("x")
    result = _evaluate(usage_event_files_sensor, cursor=json.dumps(["events_part_0000.jsonl"]))
    assert isinstance(result, SensorResult)
    [request] = result.run_requests
    assert request.partition_key and request.tags["cloud_analytics/stream"] == "true"
    assert request.tags["dagster/max_retries"] == "3"
    assert [r.partition_keys for r in result.dynamic_partitions_requests] == [[request.partition_key]]
    assert json.loads(result.cursor) == ["events_part_0000.jsonl", "events_part_0001.jsonl"]
    # The temp file, once renamed into place, is picked up by the next evaluation.
    os.replace(landing / ".events_part_0002.jsonl.tmp", landing / "events_part_0002.jsonl")
    nxt = _evaluate(usage_event_files_sensor, cursor=result.cursor)
    assert json.loads(nxt.cursor)[-1] == "events_part_0002.jsonl"


def test_new_files_go_to_a_stream_run_still_waiting_to_start_instead_of_a_new_run(landing):
    from dagster import DagsterRunStatus
    from dagster._core.test_utils import create_run_for_test

    landing.mkdir(parents=True)
    (landing / "events_part_0000.jsonl").write_text("{}\n")
    with DagsterInstance.ephemeral() as instance:
        # Created, not yet started (a queued run needs a code location to be created in a test).
        queued = create_run_for_test(instance, job_name="usage_stream_job", status=DagsterRunStatus.NOT_STARTED)
        result = _evaluate(usage_event_files_sensor, instance=instance)
        assert isinstance(result, SensorResult) and not result.run_requests
        assert queued.run_id[:8] in result.skip_reason.skip_message
        assert json.loads(result.cursor) == ["events_part_0000.jsonl"]  # handed to the queued run
        # Once that run has started it may have listed the folder already: a later file gets its own run.
        instance.delete_run(queued.run_id)
        create_run_for_test(instance, job_name="usage_stream_job", status=DagsterRunStatus.STARTED)
        (landing / "events_part_0001.jsonl").write_text("{}\n")
        nxt = _evaluate(usage_event_files_sensor, cursor=result.cursor, instance=instance)
        assert [r.tags["cloud_analytics/stream"] for r in nxt.run_requests] == ["true"]
        assert json.loads(nxt.cursor) == ["events_part_0000.jsonl", "events_part_0001.jsonl"]
        # A retry waiting to start re-executes failed steps only (perhaps not bronze): not a reader.
        create_run_for_test(instance, job_name="usage_stream_job", status=DagsterRunStatus.NOT_STARTED,
                            tags={"dagster/parent_run_id": queued.run_id})
        (landing / "events_part_0002.jsonl").write_text("{}\n")
        third = _evaluate(usage_event_files_sensor, cursor=nxt.cursor, instance=instance)
        assert len(third.run_requests) == 1


def test_while_a_refresh_waits_to_start_the_dates_touched_meanwhile_wait_for_the_next_one():
    from dagster import DagsterRunStatus
    from dagster._core.test_utils import create_run_for_test

    with DagsterInstance.ephemeral() as instance:
        waiting = create_run_for_test(instance, job_name="usage_refresh_job", status=DagsterRunStatus.NOT_STARTED)
        instance.report_runless_asset_event(AssetMaterialization(
            USAGE_EVENTS, partition=None, metadata={"dates_touched": ["2025-07-05"]}))
        skipped = _evaluate(touched_dates_sensor, cursor=None, instance=instance)
        assert isinstance(skipped, SkipReason) and waiting.run_id[:8] in skipped.skip_message
        instance.delete_run(waiting.run_id)  # it started and finished: the dates are requested now
        [request] = _evaluate(touched_dates_sensor, cursor=None, instance=instance).run_requests
        assert (request.tags[RANGE_START_TAG], request.tags[RANGE_END_TAG]) == ("2025-07-05", "2025-07-05")


def test_touched_dates_become_one_refresh_run_over_their_range():
    with DagsterInstance.ephemeral() as instance:
        assert isinstance(_evaluate(touched_dates_sensor, instance=instance), SkipReason)
        instance.report_runless_asset_event(AssetMaterialization(
            USAGE_EVENTS, partition=None, metadata={"dates_touched": ["2025-07-05", "2025-07-03", "2025-07-09"]}))
        result = _evaluate(touched_dates_sensor, instance=instance)
        [request] = result.run_requests
        assert (request.tags[RANGE_START_TAG], request.tags[RANGE_END_TAG]) == ("2025-07-03", "2025-07-09")
        again = _evaluate(touched_dates_sensor, cursor=result.cursor, instance=instance)
        assert isinstance(again, SkipReason) and "no stream run since" in again.skip_message
        # Two stream runs between ticks: one refresh covering both runs' dates.
        for dates in (["2025-07-10"], ["2025-07-01", "2025-07-02"]):
            instance.report_runless_asset_event(AssetMaterialization(USAGE_EVENTS, metadata={"dates_touched": dates}))
        both = _evaluate(touched_dates_sensor, cursor=result.cursor, instance=instance)
        [request] = both.run_requests
        assert (request.tags[RANGE_START_TAG], request.tags[RANGE_END_TAG]) == ("2025-07-01", "2025-07-10")


def test_refresh_covers_new_dates_plus_dates_never_built():
    from cloud_analytics.orchestration.jobs import REFRESH_KEYS

    built = ["2025-07-01", "2025-07-02"]
    with DagsterInstance.ephemeral() as instance:
        instance.report_runless_asset_event(AssetMaterialization(USAGE_EVENTS, metadata={"dates_touched": built}))
        for key in REFRESH_KEYS:  # the refresh of those dates ran
            for day in built:
                instance.report_runless_asset_event(AssetMaterialization(key, partition=day))
        first = _evaluate(touched_dates_sensor, instance=instance)
        [request] = first.run_requests  # the cursor starts empty: the first stream run counts
        assert (request.tags[RANGE_START_TAG], request.tags[RANGE_END_TAG]) == ("2025-07-01", "2025-07-02")
        instance.report_runless_asset_event(AssetMaterialization(USAGE_EVENTS, metadata={"dates_touched": ["2025-07-09"]}))
        [request] = _evaluate(touched_dates_sensor, cursor=first.cursor, instance=instance).run_requests
        assert (request.tags[RANGE_START_TAG], request.tags[RANGE_END_TAG]) == ("2025-07-09", "2025-07-09")
    with DagsterInstance.ephemeral() as instance:
        # One serving table never got 07-02 (a refresh that failed half-way): it joins the next range.
        instance.report_runless_asset_event(AssetMaterialization(USAGE_EVENTS, metadata={"dates_touched": built}))
        for key in REFRESH_KEYS:
            for day in built if key != REFRESH_KEYS[-1] else built[:1]:
                instance.report_runless_asset_event(AssetMaterialization(key, partition=day))
        first = _evaluate(touched_dates_sensor, instance=instance)
        instance.report_runless_asset_event(AssetMaterialization(USAGE_EVENTS, metadata={"dates_touched": ["2025-07-09"]}))
        [request] = _evaluate(touched_dates_sensor, cursor=first.cursor, instance=instance).run_requests
        assert (request.tags[RANGE_START_TAG], request.tags[RANGE_END_TAG]) == ("2025-07-02", "2025-07-09")


def _finished_run(instance, tags):
    from dagster import DagsterRunStatus
    from dagster._core.test_utils import create_run_for_test

    return create_run_for_test(instance, job_name="usage_refresh_job", tags=tags, status=DagsterRunStatus.SUCCESS)


def test_follow_ups_already_waiting_to_start_are_not_requested_again():
    from dagster import DagsterRunStatus
    from dagster._core.test_utils import create_run_for_test

    from cloud_analytics.orchestration.jobs import ANOMALY_KEYS, FOLLOW_UP_TAG

    with DagsterInstance.ephemeral() as instance:
        instance.report_runless_asset_event(AssetMaterialization(
            USAGE_EVENTS, metadata={"dates_touched": ["2025-07-03", "2025-07-10", "2025-08-31"]}))
        # Waiting to start since an earlier refresh (not started yet): customer health as of 08-31 and the anomaly history.
        create_run_for_test(instance, job_name="customer_health_job", status=DagsterRunStatus.NOT_STARTED,
                            tags={FOLLOW_UP_TAG: "true", RANGE_START_TAG: "2025-08-31", RANGE_END_TAG: "2025-08-31"})
        create_run_for_test(instance, job_name="usage_refresh_job", status=DagsterRunStatus.NOT_STARTED,
                            asset_selection=frozenset(ANOMALY_KEYS),
                            tags={FOLLOW_UP_TAG: "true", RANGE_START_TAG: "2025-07-03", RANGE_END_TAG: "2025-08-31"})
        # A health follow-up of another date that already started is no reason to skip.
        create_run_for_test(instance, job_name="customer_health_job", status=DagsterRunStatus.STARTED,
                            tags={FOLLOW_UP_TAG: "true", RANGE_START_TAG: "2025-08-30", RANGE_END_TAG: "2025-08-30"})
        refresh = _finished_run(instance, {RANGE_START_TAG: "2025-07-10", RANGE_END_TAG: "2025-07-10"})
        assert {r.job_name for r in _follow_up(instance, refresh)} == {"monthly_billing_job"}
        create_run_for_test(instance, job_name="monthly_billing_job", status=DagsterRunStatus.NOT_STARTED,
                            asset_selection=frozenset([AssetKey(["gold", "cost_vs_billing_reconciliation"])]),
                            tags={FOLLOW_UP_TAG: "true", RANGE_START_TAG: "2025-07-01", RANGE_END_TAG: "2025-07-01"})
        skipped = _follow_up(instance, _finished_run(instance, {RANGE_START_TAG: "2025-07-10",
                                                                RANGE_END_TAG: "2025-07-10"}))
        assert isinstance(skipped, SkipReason) and "already waiting to start" in skipped.skip_message


def _follow_up(instance, run):
    from dagster import DagsterEvent, DagsterEventType, build_run_status_sensor_context

    event = DagsterEvent(DagsterEventType.RUN_SUCCESS.value, job_name=run.job_name)
    context = build_run_status_sensor_context(sensor_name="refresh_follow_up_sensor", dagster_event=event,
                                              dagster_instance=instance, dagster_run=run)
    return refresh_follow_up_sensor(context)


def test_a_successful_refresh_requests_its_follow_ups_and_a_follow_up_requests_none():
    from cloud_analytics.orchestration.jobs import FOLLOW_UP_TAG

    with DagsterInstance.ephemeral() as instance:
        instance.report_runless_asset_event(AssetMaterialization(
            USAGE_EVENTS, metadata={"dates_touched": ["2025-07-03", "2025-07-10", "2025-08-31"]}))
        # The newest snapshot silver holds, not today's by the clock (the snapshot job may not have run).
        for day in ("2026-11-29", "2026-11-30"):
            instance.report_runless_asset_event(AssetMaterialization(AssetKey(["silver", "resources"]), partition=day))
        refresh = _finished_run(instance, {RANGE_START_TAG: "2025-07-10", RANGE_END_TAG: "2025-07-10"})
        requests = _follow_up(instance, refresh)
        got = {r.job_name: (r.tags[RANGE_START_TAG], r.tags[RANGE_END_TAG],
                            sorted(k.to_user_string() for k in r.asset_selection or [])) for r in requests}
        assert got == {
            "customer_health_job": ("2025-08-31", "2025-08-31", []),
            "usage_refresh_job": ("2025-07-03", "2025-08-31", ["gold/cost_anomaly_mart", "serving/cost_anomalies_by_org",
                                                        "serving/platform_cost_by_day"]),
            "monthly_billing_job": ("2025-07-01", "2025-07-01", ["gold/cost_vs_billing_reconciliation"]),
            "daily_snapshot_job": ("2026-11-30", "2026-11-30", ["gold/resource_utilization"]),
        }
        assert all(r.tags[FOLLOW_UP_TAG] == "true" and r.run_key.startswith(f"follow-up-{refresh.run_id}")
                   for r in requests)
        follow_up = _finished_run(instance, {RANGE_START_TAG: "2025-07-03", RANGE_END_TAG: "2025-08-31",
                                             FOLLOW_UP_TAG: "true"})
        skipped = _follow_up(instance, follow_up)
        assert isinstance(skipped, SkipReason) and "itself a follow-up" in skipped.skip_message
        # A refresh of one partition launched from the UI carries only dagster/partition.
        single = _finished_run(instance, {"dagster/partition": "2025-08-31"})
        assert {r.job_name for r in _follow_up(instance, single)} == {
            "customer_health_job", "usage_refresh_job", "monthly_billing_job", "daily_snapshot_job"}
