"""The sensors' decisions, with Dagster's sensor testing utilities."""

import json
import os

import pytest
from dagster import AssetMaterialization, DagsterInstance, SensorResult, SkipReason, build_sensor_context

from cloud_analytics.bronze.assets import USAGE_EVENTS
from cloud_analytics.runner import RANGE_END_TAG, RANGE_START_TAG
from cloud_analytics.sensors import touched_dates_sensor, usage_event_files_sensor


@pytest.fixture
def landing(tmp_path, monkeypatch):
    monkeypatch.setenv("CLOUD_ANALYTICS_LANDING", str(tmp_path / "landing"))
    folder = tmp_path / "landing" / "usage_events_stream"
    return folder


def _evaluate(sensor, cursor=None, instance=None):
    with build_sensor_context(cursor=cursor, instance=instance) as context:
        return sensor(context)


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
