"""A stream run killed after its micro-batch committed, before its materialization reported the
dates the batch touched (found by the chaos soak: 96 events stayed in bronze, never refreshed
into silver, because the checkpoint had moved on and no run ever named their dates).

Here the "killed run" is the stream itself run outside Dagster on the fault lake: its batch is
committed (bronze rows, ledger row, checkpoint) and no materialization records it. The next
stream run through Dagster must report that batch's dates with its own and name the batch, so
the refresh planned from the materializations rebuilds them.
"""

from __future__ import annotations

import json

from dagster import AssetKey

from cloud_analytics.bronze.stream import EventStream, StreamPaths
from cloud_analytics_tests.faults.helpers import templates, write_atomic

DAY = "2025-07-21"


def test_a_batch_no_run_reported_is_reported_by_the_next_stream_run(fault_lake, spark):
    s = fault_lake.settings
    events_dir = fault_lake.faults.events_dir
    fault_lake.stream("stream before")  # everything landed so far is reported
    events = [{**e, "event_id": f"evt_unreported_{i}"} for i, e in enumerate(templates(
        fault_lake.faults.base_files, DAY, 3))]
    write_atomic(events_dir / "events_part_unreported.jsonl", "".join(json.dumps(e) + "\n" for e in events).encode())
    lake = s.lake
    orphan = EventStream(spark, StreamPaths(
        events_dir=str(events_dir), table=str(lake / "bronze/usage_events"),
        rejects=str(lake / "bronze/usage_events_rejects"), ledger=str(lake / "bronze/_usage_events_ledger"),
        checkpoint=str(lake / "_checkpoints/bronze_usage_events")), "killed-before-reporting", str(lake),
        log=lambda _m: None).run()
    assert orphan.inserted == 3 and orphan.batch_ids  # committed, and no materialization says so

    fault_lake.stream("stream after")  # nothing new to read: its own batches touch no date
    event = fault_lake.instance.get_latest_materialization_event(AssetKey(["bronze", "usage_events"]))
    meta = event.asset_materialization.metadata
    assert meta["inserted"].value == 0
    assert DAY in meta["dates_touched"].value
    assert meta["recovered_batches"].value == orphan.batch_ids
    assert meta["ledger_reported_through"].value["batch"] >= max(orphan.batch_ids)

    fault_lake.stream("stream again")  # reported once: never again
    again = fault_lake.instance.get_latest_materialization_event(AssetKey(["bronze", "usage_events"]))
    assert again.asset_materialization.metadata["recovered_batches"].value == []
    assert again.asset_materialization.metadata["dates_touched"].value == []
