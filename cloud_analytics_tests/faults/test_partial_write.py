"""A batch asset that fails half-way through writing its partitions, then is retried.

New events land for three days, so silver's partitions must change. The silver usage-events
run is then made to fail twice, at two different points, before a clean retry:

1. inside the Delta write of the silver table: a Spark task dies on one row while the others
   write their files (an executor lost mid-write). Delta commits nothing: the table must be
   exactly what it was, with no half-written partition visible;
2. after the silver commit, before the quarantine and rule counts are written (the process
   dies between two tables). This state is half-done on purpose and the audit must see it.

The retry (fault removed) must succeed, hold exactly the events the files say, and equal a
clean run over the same input, row for row (count and checksum).
"""

from __future__ import annotations

import json
import re

import pytest
from pyspark.sql import functions as F

from cloud_analytics.lib.lake import table_path
from cloud_analytics.audit import run_audit
from cloud_analytics.lib.windows import date_window_predicate
from cloud_analytics.lib.errors import PipelineError
from cloud_analytics_tests.faults import steps
from cloud_analytics_tests.faults.helpers import (
    FAULT_LAKE_LAWS,
    assert_audit_passes,
    delta_versions,
    fingerprint,
    landed,
    law_silver,
    read,
    templates,
    write_atomic,
)

DAYS = ("2025-07-19", "2025-07-21")
NEW_FILE = "events_part_9100_retry.jsonl"


def _window(spark, settings):
    from datetime import date

    start, end = (date.fromisoformat(d) for d in DAYS)
    return {
        "silver": read(spark, settings, "silver", "usage_events").filter(date_window_predicate("event_date", start, end)),
        "quarantine": read(spark, settings, "quarantine", "usage_events").filter(
            date_window_predicate("partition_date", start, end)),
        "metrics": read(spark, settings, "quarantine", "dq_metrics").filter(
            f"table = 'usage_events' AND {date_window_predicate('partition_date', start, end)}"),
    }


def _prints(spark, settings):
    return {name: fingerprint(df) for name, df in _window(spark, settings).items()}


def _failure_text(instance, error: PipelineError) -> str:
    """The failed run's step error as recorded in the Dagster event log, causes included: what
    an operator reads in the UI (the PipelineError shows only the root cause's first line)."""
    run_id = re.search(r"\(run ([0-9a-f-]{36})\)", str(error)).group(1)
    failures = [e.dagster_event.step_failure_data.error for e in instance.all_logs(run_id)
                if e.dagster_event is not None and e.dagster_event.is_step_failure]
    assert failures, f"no step failure recorded for run {run_id}"
    return "\n".join(f.to_string() for f in failures)


def test_silver_fails_half_way_then_a_retry_equals_a_clean_run(fault_lake, spark, monkeypatch):
    import cloud_analytics.silver.assets as silver_assets

    s = fault_lake.settings
    events = fault_lake.faults.events_dir
    days = ["2025-07-19", "2025-07-20", "2025-07-21"]
    new = []
    for day in days:
        for n, event in enumerate(templates(fault_lake.faults.base_files, day, 3)):
            new.append({**event, "event_id": f"evt_retry_{day[-2:]}_{n}"})
    new[-1]["service"] = "teleportation"  # one of them will be quarantined (DOM-02)
    write_atomic(events / NEW_FILE, "".join(json.dumps(e) + "\n" for e in new).encode())
    fault_lake.stream("stream retry input")
    silver_path = table_path(str(s.lake), "silver", "usage_events")
    before, versions = _prints(spark, s), delta_versions(silver_path)

    # Fault 1: a task dies on the last new event while the silver table is being written.
    real_replace = silver_assets.replace_where
    victim = new[-2]["event_id"]

    def dying_write(df, path, predicate, partition_by):
        if path == silver_path:
            def alive(event_id):
                if event_id == victim:
                    raise RuntimeError("injected fault: executor lost while writing silver/usage_events")
                return True
            df = df.filter(F.udf(alive, "boolean")("event_id"))
        return real_replace(df, path, predicate, partition_by)

    monkeypatch.setattr(silver_assets, "replace_where", dying_write)
    with pytest.raises(PipelineError, match=r"step 'silver fault 1' failed \(run ") as failed:
        fault_lake.step("silver fault 1", steps.SILVER_EVENTS, partition_range=DAYS)
    monkeypatch.setattr(silver_assets, "replace_where", real_replace)
    assert "injected fault" in _failure_text(fault_lake.instance, failed.value)
    assert delta_versions(silver_path) == versions, "a failed write committed a version"
    assert _prints(spark, s) == before, "a failed write changed what the tables show"

    # Fault 2: the silver commit happens, then the run dies before quarantine and metrics.
    def killed(*_args, **_kwargs):
        raise RuntimeError("injected fault: process killed after the silver commit")

    monkeypatch.setattr(silver_assets, "write_quality", killed)
    with pytest.raises(PipelineError, match="injected fault: process killed after the silver commit"):
        fault_lake.step("silver fault 2", steps.SILVER_EVENTS, partition_range=DAYS)
    monkeypatch.undo()
    half = _prints(spark, s)
    assert half["silver"] != before["silver"] and half["quarantine"] == before["quarantine"]
    report = run_audit(s, spark=spark, include_serving=False)
    conservation = next(law for law in report.laws if law.name == law_silver("usage_events"))
    # Bronze holds the nine new events; silver the eight kept; quarantine not the ninth yet.
    assert not conservation.ok and conservation.detail.endswith("difference +1"), conservation.detail

    # Retry with the fault removed.
    fault_lake.step("silver retry", steps.SILVER_EVENTS, partition_range=DAYS)
    window = _window(spark, s)
    expected = landed(sorted(events.glob("*.jsonl")))
    silver_ids = [r.event_id for r in window["silver"].select("event_id").collect()]
    quarantined = [json.loads(r.raw_record)["event_id"] for r in window["quarantine"].collect()]
    assert len(silver_ids) == len(set(silver_ids)) and not set(silver_ids) & set(quarantined)
    assert sorted(silver_ids + quarantined) == sorted(expected.ids_on(days))
    assert "evt_retry_21_2" in quarantined and {e["event_id"] for e in new[:-1]} <= set(silver_ids)
    evaluated = {r.partition_date.isoformat(): r.evaluated_count
                 for r in window["metrics"].select("partition_date", "evaluated_count").distinct().collect()}
    assert evaluated == {d: len(expected.ids_on([d])) for d in days}

    # Equal to a clean run over the same input: run once more, nothing may move.
    retried = _prints(spark, s)
    fault_lake.step("silver clean run", steps.SILVER_EVENTS, partition_range=DAYS)
    assert _prints(spark, s) == retried

    fault_lake.step("gold and serving after the retry", [*steps.GOLD_USAGE, *steps.SERVING_USAGE],
                    partition_range=DAYS)
    assert_audit_passes(s, spark, FAULT_LAKE_LAWS)
