"""The bronze event stream killed with SIGKILL in the middle of a micro-batch, then run again.

The stream runs in its own process (its own SparkSession, ``max_files_per_trigger=1``, so one
file per micro-batch) over eight event files on a lake of its own. The process pauses at one
precise point of micro-batch 1 (after its rows were merged into bronze, before its ledger row
is written: the point where a crash leaves the most half-done work) so the kill lands there
every time, not by luck of timing; the whole process group (Python and the JVM) is then
killed with SIGKILL, as the OOM killer or a lost container would. Nothing is cleaned up.

The stream is then run again in-process, and everything is checked against counts made in
Python from the JSONL files alone.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from cloud_analytics.bronze.stream import EventStream, StreamPaths
from cloud_analytics.config import REPO_ROOT
from cloud_analytics_tests.faults.helpers import (
    EVENTS_SUBDIR,
    assert_audit_passes,
    delta_versions,
    landed,
    law_landing,
    write_atomic,
)

FILES = 8
KILLED_BATCH = 1

# The stream process: the platform's EventStream with one hook that stops at the crash point.
STREAM_SCRIPT = """
import sys, time
from pathlib import Path
from cloud_analytics.bronze import stream as st
from cloud_analytics.config import load_settings
from cloud_analytics.resources.spark import get_spark

marker, killed_batch = Path(sys.argv[1]), int(sys.argv[2])
original = st.BatchWriter._append_once

def append_once(self, df, path, batch_id):
    if path == self.paths.ledger and batch_id == killed_batch:
        marker.write_text(str(batch_id))  # rows merged, ledger row not written: wait for the kill
        time.sleep(3600)
    return original(self, df, path, batch_id)

st.BatchWriter._append_once = append_once
settings = load_settings()
lake = settings.lake
paths = st.StreamPaths(events_dir=str(settings.landing / "usage_events_stream"),
                       table=str(lake / "bronze/usage_events"), rejects=str(lake / "bronze/usage_events_rejects"),
                       ledger=str(lake / "bronze/_usage_events_ledger"),
                       checkpoint=str(lake / "_checkpoints/bronze_usage_events"))
st.EventStream(get_spark(settings), paths, "crashed", str(lake), max_files_per_trigger=1,
               log=lambda m: print(m, flush=True)).run()
print("stream finished without being killed", flush=True)
"""


def _paths(lake: Path, landing: Path) -> StreamPaths:
    return StreamPaths(events_dir=str(landing / EVENTS_SUBDIR), table=str(lake / "bronze/usage_events"),
                       rejects=str(lake / "bronze/usage_events_rejects"),
                       ledger=str(lake / "bronze/_usage_events_ledger"),
                       checkpoint=str(lake / "_checkpoints/bronze_usage_events"))


def _land_crash_files(source: list[Path], target: Path) -> list[Path]:
    """Eight generated files, with a few faults of their own so rejects and cross-file
    duplicates are part of what a replay must not double."""
    target.mkdir(parents=True)
    files = source[:FILES]
    assert len(files) == FILES
    lines = [f.read_text(encoding="utf-8").splitlines() for f in files]
    lines[2].append('{"event_id": "evt_crash_corrupt", "timestamp": ')             # corrupt JSON
    lines[4] += [lines[0][0], lines[1][0], lines[1][1]]                            # re-sent events
    lines[6] += ["   ", json.dumps({**json.loads(lines[6][0]), "event_id": ""})]   # blank; no event_id
    out = []
    for i, (path, body) in enumerate(zip(files, lines)):
        dest = target / path.name
        write_atomic(dest, "".join(line + "\n" for line in body).encode())
        os.utime(dest, ns=(1_750_000_000_000_000_000 + i * 10**9,) * 2)  # read in file order
        out.append(dest)
    return out


def _wait_for_pause(proc: subprocess.Popen, marker: Path, log: Path, timeout_s: float = 600) -> None:
    deadline = time.monotonic() + timeout_s
    while not marker.exists():
        if proc.poll() is not None:
            raise AssertionError(f"stream process exited ({proc.returncode}) before the crash point:\n"
                                 + log.read_text(errors="replace")[-3000:])
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            raise AssertionError("stream process never reached the crash point:\n"
                                 + log.read_text(errors="replace")[-3000:])
        time.sleep(0.05)


def _kill_group(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=60) == -signal.SIGKILL
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the JVM of the group dies with it
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    raise AssertionError("processes of the killed stream are still alive")


@dataclass
class Crash:
    settings: object
    paths: StreamPaths
    files: list[Path]
    expected: object  # helpers.Landed
    at_kill: dict
    killed_rows: set[str]
    rerun: object  # StreamReport


@pytest.fixture(scope="module")
def crash(faults, spark, tmp_path_factory) -> Crash:
    """Run the stream in its own process, SIGKILL it mid-batch, then run it again in-process."""
    lake = faults.root / "crash" / "datalake"
    landing = lake / "landing"
    files = _land_crash_files(faults.base_files, landing / EVENTS_SUBDIR)
    paths = _paths(lake, landing)
    work = tmp_path_factory.mktemp("crash_process")
    marker, log = work / "paused", work / "stream.log"
    env = {**os.environ, "CLOUD_ANALYTICS_LAKE": str(lake), "CLOUD_ANALYTICS_LANDING": str(landing),
           "CLOUD_ANALYTICS_SPARK_DRIVER_MEMORY": "1g"}
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-c", STREAM_SCRIPT, str(marker), str(KILLED_BATCH)],
                                cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        _wait_for_pause(proc, marker, log)
        # The state at the kill, read from the Delta logs (not assumed from the hook).
        at_kill = {"table": delta_versions(paths.table), "ledger": delta_versions(paths.ledger)}
        _kill_group(proc)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    stored = spark.read.format("delta").load(paths.table)
    killed_rows = {r.event_id for r in stored.filter(F.col("stream_batch_id") == KILLED_BATCH).collect()}
    at_kill["rows"] = stored.count()
    rerun = EventStream(spark, paths, "rerun", str(lake), log=lambda _m: None).run()
    return Crash(replace(faults.settings, lake=lake, landing=landing), paths, files, landed(files), at_kill,
                 killed_rows, rerun)


def test_stream_killed_mid_micro_batch_then_rerun_stores_each_event_once(crash, spark):
    expected, paths = crash.expected, crash.paths
    assert expected.rejects == {"invalid_json": 1, "missing_event_id": 1} and expected.duplicates == 3
    # At the kill: batch 0 committed (ledger v1) and batch 1 merged into bronze (table v2) but
    # not in the ledger; six files not read yet.
    assert crash.at_kill["ledger"] == [0, 1], crash.at_kill
    assert crash.at_kill["table"] == [0, 1, 2], crash.at_kill
    assert 0 < crash.at_kill["rows"] < len(expected.ids) and crash.killed_rows
    assert crash.rerun.batches >= 2  # the interrupted batch replayed, then the rest

    # Bronze: every distinct event of the eight files, once; nothing else.
    table = spark.read.format("delta").load(paths.table)
    ids = [r.event_id for r in table.select("event_id").collect()]
    assert len(ids) == len(set(ids)), "an event_id is stored twice"
    assert set(ids) == set(expected.ids)
    assert crash.killed_rows <= set(ids)
    per_date = {r[0].isoformat(): r[1] for r in table.groupBy("event_date").count().collect()}
    assert per_date == {d: sum(1 for v in expected.ids.values() if v == d) for d in set(expected.ids.values())}

    # Rejects: the two bad lines, once each, with their reasons and files.
    rejects = spark.read.format("delta").load(paths.rejects).collect()
    assert sorted(r.reason.split(":")[0] for r in rejects) == sorted(expected.rejects.elements())
    assert {Path(r.source_file).name for r in rejects} == {crash.files[2].name, crash.files[6].name}

    # Ledger: one row per micro-batch, every file read exactly once.
    ledger = spark.read.format("delta").load(paths.ledger).collect()
    assert sorted(r.batch_id for r in ledger) == list(range(len(ledger)))
    assert len({r.checkpoint_id for r in ledger}) == 1
    assert sorted(Path(f).name for r in ledger for f in r.files) == sorted(f.name for f in crash.files)
    assert sum(r.rows_read for r in ledger) == expected.lines
    assert sum(r.rejects for r in ledger) == sum(expected.rejects.values())

    # A further run finds nothing new and changes nothing.
    again = EventStream(spark, paths, "idle", str(crash.settings.lake), log=lambda _m: None).run()
    assert (again.batches, again.inserted) == (0, 0)
    assert spark.read.format("delta").load(paths.table).count() == len(expected.ids)


def test_after_the_crash_the_ledger_and_the_audit_reconcile(crash, spark):
    expected = crash.expected
    ledger = spark.read.format("delta").load(crash.paths.ledger).collect()
    assert sum(r.inserted for r in ledger) == len(expected.ids), "ledger 'inserted' misses the killed batch's rows"
    assert sum(r.duplicates_in_batch + r.duplicates_existing for r in ledger) == expected.duplicates, (
        "the replayed batch counts its own rows as duplicates")
    assert_audit_passes(crash.settings, spark, [law_landing("usage_events")], include_serving=False)
