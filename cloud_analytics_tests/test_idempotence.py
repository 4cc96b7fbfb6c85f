"""Running the whole pipeline a second time over the same landing data changes nothing: every
Delta table under bronze, silver, gold and quarantine and every Cassandra serving table keeps
its row count and its checksum (``audit.table_fingerprints``: an order-independent sum of row
hashes without the columns a run stamps, such as ``ingest_ts`` and ``loaded_at``).

This module runs after the tests asserting exact figures (pytest collects the sub-packages
and then the top-level modules alphabetically), and a second identical run must not move any
figure anyway: that is what it proves.
"""

from __future__ import annotations

import pytest

from cloud_analytics.audit import table_fingerprints
from cloud_analytics.partitions import snapshot_daily


def test_a_second_full_run_changes_no_table(serving_run, settings, spark, cassandra, dagster_instance):
    from cloud_analytics.pipeline import materialize_all

    day = snapshot_daily.get_last_partition_key()
    with cassandra.session() as session:
        before = table_fingerprints(settings, spark, session)
    assert {"bronze/usage_events", "bronze/csv_rejects", "silver/usage_events", "quarantine/usage_events",
            "gold/org_daily_usage_by_service", "cassandra/org_daily_usage", "cassandra/revenue_by_month"} <= set(before)
    assert before["bronze/usage_events"][0] == 43_200 and before["cassandra/org_daily_usage"][0] > 0

    # Every layer, really rebuilt (``force``: a plain re-run skips what nothing new landed for).
    again = materialize_all(settings, dagster_instance, log=lambda _m: None, force=True)
    assert [c for step in again for c in step.failed_checks] == []
    if snapshot_daily.get_last_partition_key() != day:
        pytest.skip(f"the UTC day changed during the run ({day} → {snapshot_daily.get_last_partition_key()}): "
                    "the second run captured a new daily snapshot, a real change by design")
    with cassandra.session() as session:
        after = table_fingerprints(settings, spark, session)

    differ = {name: (before.get(name), after.get(name)) for name in sorted(before.keys() | after.keys())
              if before.get(name) != after.get(name)}
    assert not differ, "tables changed by a second identical run (rows, checksum) before → after:\n" + "\n".join(
        f"  {name}: {old} → {new}" for name, (old, new) in differ.items())


def test_a_rerun_with_nothing_new_landed_skips_every_job_and_says_so(serving_run, settings, dagster_instance):
    from dagster import AssetKey, AssetRecordsFilter

    from cloud_analytics.pipeline import materialize_all

    messages: list[str] = []
    day = snapshot_daily.get_last_partition_key()
    steps = materialize_all(settings, dagster_instance, log=messages.append)
    if snapshot_daily.get_last_partition_key() != day:
        pytest.skip("the UTC day changed during the run: a new daily snapshot is a real change")
    assert [s.name for s in steps] == [], messages
    assert any("daily_snapshot_job" in m and "unchanged" in m for m in messages), messages
    observed = dagster_instance.fetch_observations(
        AssetRecordsFilter(asset_key=AssetKey(["bronze", "users"]), asset_partitions=[day]), limit=1).records
    assert observed and "skipped" in observed[0].asset_observation.metadata


def test_a_changed_billing_month_is_the_only_one_planned_again(serving_run, settings, dagster_instance, tmp_path):
    import shutil

    from cloud_analytics.orchestration.jobs import BILLING_JOB, JOB_KEYS
    from cloud_analytics.orchestration.ranges import Plan
    from cloud_analytics.orchestration.runner import skip_unchanged

    landing = tmp_path / "landing"
    shutil.copytree(settings.landing, landing, ignore=shutil.ignore_patterns("usage_events_stream"))
    lines = (landing / "billing_monthly.csv").read_text().splitlines(keepends=True)
    july = next(i for i, line in enumerate(lines) if ",2025-07-01," in line)
    lines[july] = lines[july].replace(",2025-07-01,", ",2025-07-01,1", 1)  # another subtotal
    (landing / "billing_monthly.csv").write_text("".join(lines))
    months = ("2025-06-01", "2025-08-01")
    planned = skip_unchanged(dagster_instance, Plan(BILLING_JOB, partition_range=months), JOB_KEYS[BILLING_JOB],
                             landing, log=lambda _m: None)
    assert planned is not None and planned.partition_range == ("2025-07-01", "2025-07-01")
    assert skip_unchanged(dagster_instance, Plan(BILLING_JOB, partition_range=months), JOB_KEYS[BILLING_JOB],
                          settings.landing, log=lambda _m: None) is None


def test_fingerprints_see_content_and_ignore_order_and_run_stamps(spark):
    from datetime import datetime

    from cloud_analytics.audit import _canonical_value, delta_fingerprint

    schema = "id string, cost double, tags map<string,string>, ingest_ts timestamp"
    rows = [("a", 0.1 + 0.2, {"k": "v", "j": "w"}, datetime(2026, 1, 1)), ("b", -0.0, None, datetime(2026, 1, 1))]
    base = delta_fingerprint(spark.createDataFrame(rows, schema))
    assert base[0] == 2
    # Another order, another ingest_ts, a last-bit difference in a double sum, -0.0 as 0.0: the same.
    same = [("b", 0.0, None, datetime(2027, 5, 5)), ("a", 0.3, {"j": "w", "k": "v"}, datetime(2027, 5, 5))]
    assert delta_fingerprint(spark.createDataFrame(same, schema)) == base
    # A changed value, a changed map, a row twice: different.
    for changed in ([("a", 0.31, {"k": "v", "j": "w"}, None), rows[1]],
                    [("a", 0.3, {"k": "x", "j": "w"}, None), rows[1]],
                    [*rows, rows[1]]):
        assert delta_fingerprint(spark.createDataFrame(changed, schema)) != base
    # Driver values: sets and maps in any order, floats to 12 digits.
    assert _canonical_value({"b": 1.0, "a": 0.1 + 0.2}) == _canonical_value({"a": 0.3, "b": 1.0})
    assert _canonical_value({3, 1, 2}) == _canonical_value({1, 2, 3}) != _canonical_value([3, 1, 2])
