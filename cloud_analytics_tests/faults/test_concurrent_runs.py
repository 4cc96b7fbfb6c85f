"""Two runs of the same silver daily partition at once.

Two threads materialize silver ``usage_events`` for the same day, each in its own Dagster
instance (two schedulers, or a backfill racing a sensor run), sharing the process's
SparkSession. To make the race real rather than lucky, both runs wait for each other just
before their first Delta write, so both transactions start from the same table version.
Allowed outcomes: both succeed one after the other, or one wins and the other fails with
Delta's concurrent-modification error, then succeeds when retried. Either way the table must
end up equal, row for row, to one clean run, and stay readable with its history intact.
"""

from __future__ import annotations

import threading

from dagster import DagsterInstance

from cloud_analytics.lib.lake import table_path
from cloud_analytics.lib.errors import PipelineError
from cloud_analytics_tests.faults import steps
from cloud_analytics_tests.faults.helpers import FAULT_LAKE_LAWS, assert_audit_passes, read, silver_day_prints

DAY = "2025-07-16"
CONFLICT = ("ConcurrentAppendException", "ConcurrentDeleteReadException", "ConcurrentDeleteDeleteException",
            "DELTA_CONCURRENT_APPEND", "DELTA_CONCURRENT_DELETE_READ", "DELTA_CONCURRENT_DELETE_DELETE",
            "ConcurrentTransactionException", "DELTA_CONCURRENT_TRANSACTION")


def test_two_runs_of_one_silver_partition_at_once_leave_one_clean_result(fault_lake, spark, monkeypatch):
    import cloud_analytics.silver.assets as silver_assets

    s = fault_lake.settings
    fault_lake.step("silver clean reference", steps.SILVER_EVENTS, partition_key=DAY)
    reference = silver_day_prints(spark, s, DAY)
    assert reference["silver"][0] > 0

    real_replace = silver_assets.replace_where
    barrier = threading.Barrier(2, timeout=300)
    local = threading.local()

    def synchronized_write(df, path, predicate, partition_by):
        if not getattr(local, "met", False):  # the first write of each run
            local.met = True
            barrier.wait()
        return real_replace(df, path, predicate, partition_by)

    monkeypatch.setattr(silver_assets, "replace_where", synchronized_write)
    outcomes: dict[int, BaseException | None] = {}

    def run(i: int) -> None:
        try:
            with DagsterInstance.ephemeral() as instance:
                fault_lake.step(f"silver racer {i}", steps.SILVER_EVENTS, partition_key=DAY, instance=instance)
            outcomes[i] = None
        except BaseException as exc:  # noqa: BLE001 - reported below
            outcomes[i] = exc
            barrier.abort()  # never leave the other run waiting

    racers = [threading.Thread(target=run, args=(i,), name=f"racer-{i}") for i in (1, 2)]
    for t in racers:
        t.start()
    for t in racers:
        t.join(timeout=900)
    monkeypatch.undo()
    assert not any(t.is_alive() for t in racers), "a run never finished"

    losers = {i: exc for i, exc in outcomes.items() if exc is not None}
    print(f"race outcome: {len(losers)} loser(s): {[str(e)[:300] for e in losers.values()]}")
    assert len(losers) < 2, f"both runs failed: {losers}"
    for i, exc in losers.items():
        assert isinstance(exc, PipelineError), repr(exc)
        assert any(marker in str(exc) for marker in CONFLICT), f"racer {i} failed for another reason: {exc}"
        fault_lake.step(f"silver retry of racer {i}", steps.SILVER_EVENTS, partition_key=DAY)

    assert silver_day_prints(spark, s, DAY) == reference
    path = table_path(str(s.lake), "silver", "usage_events")
    history = spark.sql(f"DESCRIBE HISTORY delta.`{path}`").collect()
    assert history and history[0].operation == "WRITE"
    versions = sorted(r.version for r in history)
    assert versions == list(range(versions[0], versions[-1] + 1)), "a gap in the table's history"
    table = read(spark, s, "silver", "usage_events")
    assert table.count() == table.select("event_id").distinct().count()
    assert_audit_passes(s, spark, FAULT_LAKE_LAWS)
