"""The bronze event stream on small landing folders: exactly once, incremental, crash-safe."""

import json
import os
import shutil

import pytest

from cloud_analytics.bronze.stream import EventStream, StreamPaths


def _event(n, day=3, **extra):
    return {"event_id": f"evt_{n:012d}", "timestamp": f"2025-07-{day:02d}T00:{n % 60:02d}:00Z",
            "org_id": "org_1", "resource_id": "res_1", "service": "compute", "region": "us-east",
            "metric": "requests", "value": float(n), "unit": "count", "cost_usd_increment": 1.0,
            "schema_version": 1, **extra}


def _land(folder, name, lines):
    """Write atomically, as a producer must: temp name first, then rename."""
    tmp = folder / f".{name}.tmp"
    tmp.write_text("".join(line + "\n" for line in lines))
    os.replace(tmp, folder / name)


@pytest.fixture
def lake(tmp_path):
    events = tmp_path / "landing" / "usage_events_stream"
    events.mkdir(parents=True)
    paths = StreamPaths(events_dir=str(events), table=str(tmp_path / "bronze/usage_events"),
                        rejects=str(tmp_path / "bronze/usage_events_rejects"),
                        ledger=str(tmp_path / "bronze/_usage_events_ledger"),
                        checkpoint=str(tmp_path / "_checkpoints/bronze_usage_events"))
    return tmp_path, events, paths


def _run(spark, paths, root, key="r", max_files=200):
    return EventStream(spark, paths, key, str(root), max_files_per_trigger=max_files, log=lambda _m: None).run()


def _table(spark, path):
    return spark.read.format("delta").load(path)


@pytest.mark.both_modes
def test_faulty_deliveries_lose_nothing_and_double_nothing(spark, lake):
    root, events, paths = lake
    shared = json.dumps(_event(1))
    _land(events, "events_part_0000.jsonl", [shared, json.dumps(_event(2)), json.dumps(_event(2)),
                                             "{corrupt", "", json.dumps(_event(3, day=20))])
    _land(events, "events_part_0001.jsonl", [shared, json.dumps(_event(4)),
                                             '{"event_id": "evt_trunc", "timestamp": "2025-07-0'])
    _land(events, "events_part_0002.jsonl", [])  # an empty file
    (events / ".events_part_0003.jsonl.tmp").write_text(json.dumps(_event(9)) + "\n")  # still being written

    report = _run(spark, paths, root)
    stored = _table(spark, paths.table)
    assert sorted(r.event_id for r in stored.collect()) == [f"evt_{n:012d}" for n in (1, 2, 3, 4)]
    rejects = _table(spark, paths.rejects).collect()
    assert sorted(r.reason.split(":")[0] for r in rejects) == ["invalid_json", "invalid_json"]
    assert {r.source_file for r in rejects} == {"landing/usage_events_stream/events_part_0000.jsonl",
                                                "landing/usage_events_stream/events_part_0001.jsonl"}
    assert report.rows_read == 8 and report.blank_lines == 1
    assert (report.inserted, report.duplicates, report.rejects) == (4, 2, 2)
    assert report.rows_read == report.inserted + report.duplicates + report.rejects
    assert sorted(d.isoformat() for d in report.dates) == ["2025-07-03", "2025-07-20"]


@pytest.mark.both_modes
def test_incremental_runs_read_only_new_files(spark, lake):
    root, events, paths = lake
    _land(events, "events_part_0000.jsonl", [json.dumps(_event(n)) for n in range(10)])
    first = _run(spark, paths, root, "r1")
    assert (first.inserted, len(first.files)) == (10, 1)

    nothing = _run(spark, paths, root, "r2")
    assert (nothing.batches, nothing.rows_read, nothing.inserted) == (0, 0, 0)

    # The same file landed again under the same name: the checkpoint already has that path.
    _land(events, "events_part_0000.jsonl", [json.dumps(_event(n)) for n in range(10)])
    again = _run(spark, paths, root, "r2b")
    assert (again.rows_read, again.inserted) == (0, 0)

    # One new file: one already-stored event and two new ones, one of them late.
    _land(events, "events_part_0001.jsonl", [json.dumps(_event(3)), json.dumps(_event(10, day=25)),
                                             json.dumps(_event(11, day=2))])
    second = _run(spark, paths, root, "r3")
    assert second.files == ["landing/usage_events_stream/events_part_0001.jsonl"]
    assert (second.rows_read, second.inserted, second.duplicates) == (3, 2, 1)
    late = {r.event_id: r for r in _table(spark, paths.table).filter("stream_run = 'r3'").collect()}
    assert late["evt_000000000011"].is_late and late["evt_000000000011"].lateness_seconds > 3600
    assert not late["evt_000000000010"].is_late

    # The same content re-delivered under a new name is new input for Spark: dedupe catches it.
    shutil.copy(events / "events_part_0000.jsonl", events / "events_part_0000_resent.jsonl")
    resent = _run(spark, paths, root, "r4")
    assert (resent.rows_read, resent.inserted, resent.duplicates) == (10, 0, 10)
    assert _table(spark, paths.table).count() == 12


def test_a_batch_writes_one_file_per_event_date(spark, lake):
    """Each landed file spans many dates: a batch's rows are grouped by date before the append,
    so a date gets one new file per batch, not one per read task (thousands at scale 10)."""
    root, events, paths = lake
    for part in range(3):
        _land(events, f"events_part_{part:04d}.jsonl",
              [json.dumps(_event(part * 10 + n, day=3 + n % 2)) for n in range(6)])
    # Keep the batch's rows in several partitions (each holding both dates), as on large data:
    # tiny data would otherwise be coalesced into one partition and one file per date anyway.
    coalesce = "spark.sql.adaptive.coalescePartitions.enabled"
    before = spark.conf.get(coalesce)
    spark.conf.set(coalesce, "false")
    try:
        first = _run(spark, paths, root, "r1", max_files=3)
    finally:
        spark.conf.set(coalesce, before)
    assert (first.batches, first.inserted) == (1, 18)
    table = root / "bronze/usage_events"
    files = lambda: sorted(p.parent.name for p in table.rglob("*.parquet"))  # noqa: E731
    assert files() == ["event_date=2025-07-03", "event_date=2025-07-04"]

    # A later batch on a date bronze holds: only what is new is appended, again one file.
    _land(events, "events_part_0003.jsonl", [json.dumps(_event(0, day=3)), json.dumps(_event(99, day=3))])
    second = _run(spark, paths, root, "r2")
    assert (second.inserted, second.duplicates) == (1, 1)
    assert files() == ["event_date=2025-07-03", "event_date=2025-07-03", "event_date=2025-07-04"]


@pytest.mark.both_modes
def test_replayed_batch_after_a_crash_is_not_doubled(spark, lake):
    """Delete the last batch's commit marker, as a crash between the Delta writes and the
    checkpoint commit leaves it: the restart replays the batch, and nothing is stored twice."""
    root, events, paths = lake
    _land(events, "events_part_0000.jsonl", [json.dumps(_event(n)) for n in range(5)] + ["{bad"])
    _run(spark, paths, root, "r1")
    commits = root / "_checkpoints/bronze_usage_events/commits"
    last = max(int(p.name) for p in commits.iterdir() if p.name.isdigit())
    for name in (str(last), f".{last}.crc"):
        (commits / name).unlink(missing_ok=True)

    replay = _run(spark, paths, root, "r2")
    assert replay.batches == 1 and replay.rows_read == 6  # the batch really ran again
    # The batch's MERGE had committed before the crash: the replay credits its inserts to the
    # batch (found by the commit's tag) instead of counting its own rows as duplicates.
    assert (replay.inserted, replay.duplicates) == (5, 0)
    assert _table(spark, paths.table).count() == 5
    assert _table(spark, paths.rejects).count() == 1      # txnAppId/txnVersion skipped the re-append
    assert _table(spark, paths.ledger).count() == 1


def test_micro_batches_are_bounded_by_max_files(spark, lake):
    root, events, paths = lake
    for i in range(5):
        _land(events, f"events_part_{i:04d}.jsonl", [json.dumps(_event(i * 10 + n)) for n in range(3)])
    report = _run(spark, paths, root, max_files=2)
    assert report.batches == 3 and report.inserted == 15


def test_missing_landing_folder_is_a_clear_error(spark, tmp_path):
    paths = StreamPaths(events_dir=str(tmp_path / "nope"), table=str(tmp_path / "t"), rejects=str(tmp_path / "r"),
                        ledger=str(tmp_path / "l"), checkpoint=str(tmp_path / "c"))
    with pytest.raises(FileNotFoundError, match="nope"):
        _run(spark, paths, tmp_path)
