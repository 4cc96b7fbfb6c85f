"""Faults as hard as the real thing: processes die with SIGKILL, writers are separate processes.

1. **The Cassandra JVM gets SIGKILL while a serving load's upserts are in flight.** The load
   runs (a Dagster materialization of ``serving/org_daily_usage``) in a thread; a probe on the
   loader's session only *observes* its requests (each one is sent exactly as the loader made
   it) and holds the load once half of them are out, so the kill lands mid-load every time,
   with requests on the wire and others not sent yet. The kill is ``os.kill(pid, SIGKILL)`` of
   the node's JVM: no drain, no flush; only the commit log survives. The run must fail within
   seconds naming the node, never hang. After a restart (commit log replay) nothing sent after
   the kill may be there, the audit must see the half-loaded table, and a retry must leave
   Cassandra equal to gold. A companion test found a product bug, fixed since: with
   ``commitlog_sync: periodic`` the local node lost writes it had acknowledged in the last
   ~100 ms before a kill -9; it now syncs its commit log in groups (``local_node.py``), so every
   acknowledged write survives.
2. **A silver run's process is killed after its silver commit, before its quarantine write.**
   The run is a process of its own (``silver_process.py``) that SIGKILLs its whole process
   group (Python and the Spark JVM) the moment the silver table's Delta write returns: no
   exception, no ``finally``, no Dagster failure handling. The silver table holds the new
   commit, the quarantine and rule counts do not, the run stays "started" in Dagster with no
   materialization, and the audit reports the broken law. A normal retry equals a clean run.
3. **Two processes write the same silver partition at once.** Two OS processes, each with its
   own SparkSession JVM, materialize the same partition; each waits *inside its Delta
   transaction* (after it read the table's version, before its commit) until both are there.
   Delta's optimistic concurrency must then fail exactly one of them with
   ``ConcurrentAppendException``: a ``replaceWhere`` overwrite is not a blind append, so under
   the default ``WriteSerializable`` isolation the files the winner added in the partition are
   files the loser's read predicate should have seen (Delta's ``ConflictChecker.
   checkForAddedFilesThatShouldHaveBeenReadByCurrentTxn``; docs.delta.io, "Concurrency
   control": "ConcurrentAppendException: This exception occurs when a concurrent operation adds
   files in the same partition ... that your operation reads"). Retrying the loser leaves the
   table equal, row for row, to one clean run, with its history intact.

The session's Cassandra node is shared by the whole suite: test 1 restarts it whatever happens.
Every subprocess runs in a session (process group) of its own, bounded by a timeout and killed
with its JVM in a ``finally``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from cloud_analytics.audit import run_audit
from cloud_analytics.config import REPO_ROOT
from cloud_analytics.lib.errors import PipelineError
from cloud_analytics.lib.lake import table_path
from cloud_analytics.resources.cassandra import CassandraResource
from cloud_analytics_tests.faults import steps
from cloud_analytics_tests.faults.helpers import (
    FAULT_LAKE_LAWS,
    assert_audit_passes,
    delta_versions,
    landed,
    law_serving,
    law_silver,
    read,
    silver_day_prints,
    templates,
    write_atomic,
)

PROCESS = "cloud_analytics_tests.faults.silver_process"
PROCESS_TIMEOUT_S = 480  # a cold Spark JVM and one silver run, on two shared cores
LOAD_TIMEOUT_S = 300  # the serving load's Spark pass before its first upsert
FAIL_WITHIN_S = 60  # from the kill to the run's failure: the driver's request timeout is 30 s
# Cassandra's periodic commit log writes its section markers every 100 ms (AbstractCommitLogService.
# DEFAULT_MARKER_INTERVAL_MILLIS); a write older than that survives a kill -9 of the process.
DURABLE_AFTER_S = 0.5


# -- processes -------------------------------------------------------------------------------


def _live_members(pgid: int) -> list[int]:
    """Pids of the process group ``pgid`` that are alive (zombies are dead: nothing runs)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            alive.append(int(stat.parent.name))
    return alive


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the process group of ``proc`` (its JVM and workers with it) and reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass


def _wait_group_gone(pgid: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while _live_members(pgid):
        if time.monotonic() > deadline:
            raise AssertionError(f"processes {_live_members(pgid)} of the group {pgid} are still alive")
        time.sleep(0.1)


def _tail(log: Path, chars: int = 4000) -> str:
    return log.read_text(errors="replace")[-chars:] if log.exists() else "(no output)"


def _spawn(args: list[str], log: Path, settings) -> subprocess.Popen:
    """``silver_process`` in a session of its own, with a small Spark driver whose JVM compiles
    with C1 only: a short-lived JVM reaches the silver write in about half the time (measured
    43 s against 62 s on this machine), and nothing but the JIT changes."""
    from cloud_analytics.resources.spark import spark_conf

    options = f"{spark_conf(settings)['spark.driver.extraJavaOptions']} -XX:TieredStopAtLevel=1"
    extra = ";".join(filter(None, [os.environ.get("CLOUD_ANALYTICS_SPARK_CONF", ""),
                                   f"spark.driver.extraJavaOptions={options}"]))
    env = {**os.environ, "CLOUD_ANALYTICS_SPARK_DRIVER_MEMORY": "1g", "CLOUD_ANALYTICS_SPARK_CONF": extra}
    with open(log, "wb") as out:
        return subprocess.Popen([sys.executable, "-m", PROCESS, *args], cwd=REPO_ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)


def _wait(procs: list[subprocess.Popen], logs: list[Path], timeout_s: float = PROCESS_TIMEOUT_S) -> list[int]:
    deadline = time.monotonic() + timeout_s
    codes = []
    for proc, log in zip(procs, logs):
        try:
            codes.append(proc.wait(timeout=max(1.0, deadline - time.monotonic())))
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{log.name}: still running after {timeout_s:.0f} s:\n{_tail(log)}") from None
    return codes


def _silver_paths(settings) -> dict[str, str]:
    lake = str(settings.lake)
    return {"silver": table_path(lake, "silver", "usage_events"),
            "quarantine": table_path(lake, "quarantine", "usage_events"),
            "metrics": table_path(lake, "quarantine", "dq_metrics")}


# -- 1. Cassandra killed with SIGKILL mid-load ---------------------------------------------------


@dataclass
class Request:
    """One request of the load as the loader sent it: its CQL partition and rows."""

    org: str
    rows: int
    before_kill: bool
    acked: bool = False
    error: str | None = None


class LoadProbe:
    """Observes the serving loader's INSERT requests through the session it is given.

    Every request is sent exactly as the loader built it; the probe records its partition and
    rows and whether the node acknowledged it. Once ``pause_after`` requests are out, the
    loader's thread is held until the test killed the node (at most ``hold_s``), so the kill
    lands mid-load, half of the requests sent (some still in flight) and half not, every time."""

    def __init__(self, pause_after: int, hold_s: float = 180):
        self.pause_after = pause_after
        self.hold_s = hold_s
        self.requests: list[Request] = []
        self.errors: list[str] = []
        self.reached = threading.Event()
        self.killed = threading.Event()
        self.acked_at_kill = 0
        self.in_flight_at_kill = 0

    def watch(self, session):
        return _WatchedSession(session, self)

    def sent(self, statement, future) -> None:
        try:  # a slip of the probe must never become a failure of the load it watches
            self._record(statement, future)
        except Exception as exc:  # noqa: BLE001 - asserted by the test
            self.errors.append(repr(exc))
        if len(self.requests) == self.pause_after and not self.killed.is_set():
            self.reached.set()
            self.killed.wait(timeout=self.hold_s)

    def _record(self, statement, future) -> None:
        from cassandra.query import BatchStatement

        rows = len(statement) if isinstance(statement, BatchStatement) else 1
        request = Request(statement.routing_key.decode("utf-8"), rows, before_kill=not self.killed.is_set())
        self.requests.append(request)

        def acked(_result):
            request.acked = True

        def failed(exc):
            request.error = f"{type(exc).__name__}: {exc}"

        future.add_callbacks(acked, failed)


class _WatchedSession:
    """The loader's driver session, with every ``execute_async`` reported to the probe."""

    def __init__(self, session, probe: LoadProbe):
        self._session, self._probe = session, probe

    def execute_async(self, statement, *args, **kwargs):
        future = self._session.execute_async(statement, *args, **kwargs)
        self._probe.sent(statement, future)
        return future

    def __getattr__(self, name):
        return getattr(self._session, name)


def _batch_rows_by_org(settings) -> Counter:
    """Rows the batch loads hold in Cassandra per org (the speed layer's rows left out)."""
    with CassandraResource.from_settings(settings).session() as session:
        rows = session.execute("SELECT org_id, source FROM org_daily_usage")
        return Counter(r.org_id for r in rows if r.source == "batch")


def _served(settings):
    with CassandraResource.from_settings(settings).session() as session:
        rows = list(session.execute("SELECT daily_cost_usd, event_count, source FROM org_daily_usage"))
    batch = [r for r in rows if r.source == "batch"]
    return len(batch), sum((r.daily_cost_usd for r in batch), Decimal(0)), sum(r.event_count for r in batch)


def _gone(pid: int, timeout_s: float = 30) -> None:
    """Wait until ``pid`` is dead (reaped when it is our child, as the session's node is)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:
            pass
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return
        if state == "Z":
            return
        time.sleep(0.05)
    raise AssertionError(f"Cassandra (pid {pid}) survived SIGKILL for {timeout_s} s")


def test_cassandra_killed_with_sigkill_mid_load_then_a_retry_matches_gold(fault_lake, cassandra_node, spark,
                                                                          monkeypatch):
    import cloud_analytics.serving.loader as loader

    s = fault_lake.settings
    gold = read(spark, s, "gold", "org_daily_usage_by_service")
    expected = gold.agg(F.count(F.lit(1)).alias("rows"), F.sum("daily_cost_usd").alias("cost"),
                        F.sum("event_count").alias("events"), F.countDistinct("org_id").alias("orgs")).first()
    assert _served(s) == (expected["rows"], expected["cost"], expected["events"])  # the base load is whole
    probe = LoadProbe(pause_after=max(1, expected["orgs"] // 2))
    real_execute_all = loader.execute_all

    deletes_done: list[float] = []

    def observed_execute_all(session, statement, params, target, concurrency=loader.CONCURRENCY):
        if statement.query_string.startswith("INSERT"):
            # The window's range deletes reach the commit log's durable part (its markers are
            # written every 100 ms) before the first upsert; that every acknowledged write survives
            # is the durability test's business (below).
            if deletes_done:
                time.sleep(max(0.0, deletes_done[0] + DURABLE_AFTER_S - time.monotonic()))
            session = probe.watch(session)
        written = real_execute_all(session, statement, params, target, concurrency)
        if statement.query_string.startswith("DELETE") and not deletes_done:
            deletes_done.append(time.monotonic())
        return written

    monkeypatch.setattr(loader, "execute_all", observed_execute_all)
    outcome: dict = {}

    def load() -> None:
        try:
            fault_lake.step("serving killed mid-load", steps.SERVING_USAGE, partition_range=fault_lake.days)
            outcome["error"] = None
        except BaseException as exc:  # noqa: BLE001 - asserted below
            outcome["error"] = exc
        outcome["ended"] = time.monotonic()

    loading = threading.Thread(target=load, name="serving-load", daemon=True)
    killed_at = None
    try:
        loading.start()
        deadline = time.monotonic() + LOAD_TIMEOUT_S
        while not probe.reached.wait(0.2):
            assert loading.is_alive(), f"the load ended before its upserts were held: {outcome}"
            assert time.monotonic() < deadline, "the load never reached its upserts"
        pid = cassandra_node.pid()
        assert pid is not None, "the session's Cassandra node is not running"
        probe.acked_at_kill = sum(r.acked for r in probe.requests)
        probe.in_flight_at_kill = sum(not r.acked and r.error is None for r in probe.requests)
        os.kill(pid, signal.SIGKILL)
        killed_at = time.monotonic()
        _gone(pid)
        probe.killed.set()
        loading.join(timeout=FAIL_WITHIN_S)
        assert not loading.is_alive(), f"the load still runs {FAIL_WITHIN_S} s after the node was killed: it hangs"
    finally:
        probe.killed.set()  # never leave the load held
        monkeypatch.undo()
        if not cassandra_node.is_running():
            cassandra_node.start(timeout_s=s.cassandra_start_timeout_s, log=lambda _m: None)

    # The run failed in the upserts, within seconds, naming the node.
    error = outcome["error"]
    assert isinstance(error, PipelineError), repr(error)
    message = str(error)
    assert "step 'serving killed mid-load' failed" in message, message
    assert f"Cassandra at 127.0.0.1:{s.cassandra_port}" in message, message
    assert "ServingLoadError" in message and "INSERT" in message and "org_daily_usage" in message, message
    assert outcome["ended"] - killed_at < FAIL_WITHIN_S
    before = [r for r in probe.requests if r.before_kill]
    after = [r for r in probe.requests if not r.before_kill]
    print(f"kill -9 mid-load: {len(before)} requests out before the kill ({probe.acked_at_kill} acknowledged, "
          f"{probe.in_flight_at_kill} in flight), {len(after)} after; failed "
          f"{outcome['ended'] - killed_at:.2f} s after the kill; {message[:400]}")
    assert not probe.errors, probe.errors
    assert len(before) == probe.pause_after
    assert all(r.error is not None and not r.acked for r in after), "a request sent after the kill succeeded"
    assert sum(r.rows for r in before) < expected["rows"]

    # The node came back through commit log replay (a kill -9 flushes nothing).
    replay = re.search(r"Log replay complete, (\d+) replayed mutations", cassandra_node.log_file.read_text())
    assert replay and int(replay.group(1)) > 0, "no commit log replay after kill -9"

    # Nothing sent after the kill arrived, and the range deletes emptied every partition that
    # the upserts sent before the kill did not write again: each org holds at most what was
    # sent for it before the kill. (Which of those writes survived is the commit log's
    # business: see the durability test below.)
    held = _batch_rows_by_org(s)
    acked, sent = Counter(), Counter()
    for r in before:
        sent[r.org] += r.rows
        if r.acked:
            acked[r.org] += r.rows
    assert not {org: (held[org], sent[org]) for org in held if held[org] > sent[org]}
    present = sum(held.values())
    lost = sum(max(0, acked[org] - held[org]) for org in acked)
    print(f"after the restart: {present} rows of {sum(sent.values())} sent before the kill, "
          f"{sum(acked.values())} acknowledged, of which {lost} lost")
    assert present < expected["rows"]

    # The audit sees the half-loaded table.
    report = run_audit(s, spark=spark)
    law = next(law for law in report.laws if law.name == law_serving("org_daily_usage"))
    assert not law.ok and f"rows {expected['rows']:,} gold = {present:,} cassandra" in law.detail, law.detail

    # A retry on the restarted node: Cassandra equals gold again.
    fault_lake.step("serving retry after kill -9", steps.SERVING_USAGE, partition_range=fault_lake.days)
    assert _served(s) == (expected["rows"], expected["cost"], expected["events"])
    assert_audit_passes(s, spark, FAULT_LAKE_LAWS)


def test_writes_the_local_node_acknowledged_survive_its_kill_9(fault_lake, cassandra_node):
    """The writes of a steady stream (32 in flight, the loader's consistency level) that the node
    acknowledged must all be there after it is killed with SIGKILL mid-stream and restarted."""
    s = fault_lake.settings
    resource = CassandraResource.from_settings(s)
    table = "hard_kill_durability"
    acked: set[int] = set()
    futures = []
    try:
        with resource.session() as session:
            session.execute(f"DROP TABLE IF EXISTS {table}")
            session.execute(f"CREATE TABLE {table} (k int, c int, PRIMARY KEY (k, c))")
            insert = session.prepare(f"INSERT INTO {table} (k, c) VALUES (?, ?)")
            slots = threading.BoundedSemaphore(32)

            def done(_result, i):
                acked.add(i)
                slots.release()

            pid = cassandra_node.pid()
            i = 0
            while len(acked) < 2000:  # then kill it with requests in flight
                slots.acquire()
                future = session.execute_async(insert, (i % 16, i))
                future.add_callbacks(done, lambda _exc: slots.release(), callback_args=(i,))
                futures.append(future)
                i += 1
            os.kill(pid, signal.SIGKILL)
            _gone(pid)
            for future in futures:  # acknowledgements already on their way still count
                try:
                    future.result()
                except Exception:  # noqa: BLE001 - the node is gone
                    pass
    finally:
        if not cassandra_node.is_running():
            cassandra_node.start(timeout_s=s.cassandra_start_timeout_s, log=lambda _m: None)
    with resource.session() as session:
        present = {r.c for r in session.execute(f"SELECT c FROM {table}")}
        session.execute(f"DROP TABLE {table}")
    lost = sorted(acked - present)
    print(f"kill -9 of the node: {len(acked)} writes acknowledged, {len(lost)} of them lost")
    assert not lost, f"{len(lost)} of {len(acked)} acknowledged writes lost by a kill -9 (e.g. {lost[-5:]})"


# -- 2. a silver run's process killed between its silver commit and its quarantine write ------------

KILLED_DAY = "2025-07-22"
KILLED_FILE = "events_part_9200_killed_run.jsonl"


def test_silver_process_killed_after_its_silver_commit_then_a_retry_equals_a_clean_run(fault_lake, spark, tmp_path):
    from dagster import AssetKey, DagsterInstance, DagsterRunStatus

    s = fault_lake.settings
    events = fault_lake.faults.events_dir
    new = [{**e, "event_id": f"evt_killed_{n}"} for n, e in enumerate(templates(fault_lake.faults.base_files,
                                                                                KILLED_DAY, 4))]
    new[-1]["service"] = "teleportation"  # quarantined (DOM-02) when its run gets that far
    write_atomic(events / KILLED_FILE, "".join(json.dumps(e) + "\n" for e in new).encode())
    fault_lake.stream("stream input of the killed run")
    paths = _silver_paths(s)
    versions = {name: delta_versions(path) for name, path in paths.items()}
    before = silver_day_prints(spark, s, KILLED_DAY)

    marker, result, log, home = (tmp_path / "committed", tmp_path / "result.json", tmp_path / "killed.log",
                                 tmp_path / "dagster_home")
    proc = _spawn([KILLED_DAY, "silver killed", str(result), "--kill-after-silver", str(marker),
                   "--dagster-home", str(home)], log, s)
    try:
        (code,) = _wait([proc], [log])
    finally:
        _kill_group(proc)
    assert code == -signal.SIGKILL, f"exit {code}, not SIGKILL:\n{_tail(log)}"
    assert marker.exists() and not result.exists(), _tail(log)
    _wait_group_gone(proc.pid)  # its Spark JVM died with it

    # Half done: silver holds the new commit; quarantine and rule counts do not.
    after = {name: delta_versions(path) for name, path in paths.items()}
    assert after["silver"] == versions["silver"] + [versions["silver"][-1] + 1], (versions, after)
    assert after["quarantine"] == versions["quarantine"] and after["metrics"] == versions["metrics"]
    half = silver_day_prints(spark, s, KILLED_DAY)
    assert half["silver"] != before["silver"]
    assert (half["quarantine"], half["metrics"]) == (before["quarantine"], before["metrics"])
    silver_ids = {r.event_id for r in read(spark, s, "silver", "usage_events")
                  .filter(f"event_date = '{KILLED_DAY}'").select("event_id").collect()}
    assert {e["event_id"] for e in new[:-1]} <= silver_ids and new[-1]["event_id"] not in silver_ids

    # Dagster never heard of the commit: the run is still "started", nothing materialized.
    with DagsterInstance.local_temp(tempdir=str(home)) as instance:
        runs = instance.get_runs()
        assert [r.status for r in runs] == [DagsterRunStatus.STARTED], [(r.run_id, r.status) for r in runs]
        assert instance.get_latest_materialization_event(AssetKey(["silver", "usage_events"])) is None

    # The audit reports the broken law: bronze holds four new events, silver three, quarantine
    # not the fourth.
    report = run_audit(s, spark=spark, include_serving=False)
    conservation = next(law for law in report.laws if law.name == law_silver("usage_events"))
    assert not conservation.ok and conservation.detail.endswith("difference +1"), conservation.detail

    # A normal retry (in this process) succeeds and equals a clean run over the same input.
    fault_lake.step("silver retry after the kill", steps.SILVER_EVENTS, partition_key=KILLED_DAY)
    retried = silver_day_prints(spark, s, KILLED_DAY)
    expected = landed(sorted(events.glob("*.jsonl")))
    silver_ids = [r.event_id for r in read(spark, s, "silver", "usage_events")
                  .filter(f"event_date = '{KILLED_DAY}'").select("event_id").collect()]
    quarantined = [json.loads(r.raw_record)["event_id"] for r in read(spark, s, "quarantine", "usage_events")
                   .filter(f"partition_date = '{KILLED_DAY}'").collect()]
    assert len(silver_ids) == len(set(silver_ids))
    assert sorted(silver_ids + quarantined) == sorted(expected.ids_on([KILLED_DAY]))
    assert new[-1]["event_id"] in quarantined
    fault_lake.step("silver clean run after the retry", steps.SILVER_EVENTS, partition_key=KILLED_DAY)
    assert silver_day_prints(spark, s, KILLED_DAY) == retried

    fault_lake.step("gold and serving after the killed run", [*steps.GOLD_USAGE, *steps.SERVING_USAGE],
                    partition_range=(KILLED_DAY, KILLED_DAY))
    assert_audit_passes(s, spark, FAULT_LAKE_LAWS)


# -- 3. two processes writing the same silver partition at once --------------------------------------

RACE_DAY = "2025-07-17"


def _race(procs: list[subprocess.Popen], logs: list[Path], barrier: Path, timeout_s: float = PROCESS_TIMEOUT_S):
    """Wait for every racer; one that exits before all reached the barrier fails the race at
    once (the others would wait for it in vain)."""
    deadline = time.monotonic() + timeout_s
    while any(p.poll() is None for p in procs):
        if len(list(barrier.glob("*.ready"))) < len(procs):
            for proc, log in zip(procs, logs):
                if proc.poll() is not None:
                    raise AssertionError(f"{log.stem} exited ({proc.returncode}) before the barrier:\n{_tail(log)}")
        if time.monotonic() > deadline:
            raise AssertionError(f"the race did not end within {timeout_s:.0f} s:\n"
                                 + "\n".join(f"{log.stem}: {_tail(log, 1500)}" for log in logs))
        time.sleep(0.2)
    return [p.returncode for p in procs]


def test_two_processes_writing_one_silver_partition_at_once_one_loses_with_a_conflict(fault_lake, spark, tmp_path):
    s = fault_lake.settings
    paths = _silver_paths(s)
    versions = {name: delta_versions(path) for name, path in paths.items()}
    read_version = versions["silver"][-1]

    barrier = tmp_path / "barrier"
    barrier.mkdir()
    names = ("racer-1", "racer-2")
    results = [tmp_path / f"{n}.json" for n in names]
    logs = [tmp_path / f"{n}.log" for n in names]
    procs = []
    try:
        for name, result, log in zip(names, results, logs):
            procs.append(_spawn([RACE_DAY, name, str(result), "--barrier", str(barrier), "--racers", "2"], log, s))
        codes = _race(procs, logs, barrier)
    finally:
        for proc in procs:
            _kill_group(proc)
    outcomes = {}
    for name, result, log, code in zip(names, results, logs, codes):
        assert result.exists(), f"{name} exited {code} without a result:\n{_tail(log)}"
        outcomes[name] = json.loads(result.read_text())
    # Both transactions reached the barrier, i.e. both read the table before either committed.
    assert sorted(p.name for p in barrier.glob("*.ready")) == [f"{n}.ready" for n in names]

    losers = {n: o["error"] for n, o in outcomes.items() if o["outcome"] == "failed"}
    print(f"race outcome: {json.dumps({n: o['error'] or 'ok' for n, o in outcomes.items()})}")
    assert len(losers) == 1, f"expected exactly one loser: {outcomes}"
    ((loser, error),) = losers.items()
    assert "ConcurrentAppendException" in error and "DELTA_CONCURRENT_APPEND" in error, error
    assert f"committed at version {read_version + 1}" in error and f"event_date={RACE_DAY}" in error, error

    # The winner committed once to each table, from the version both read; the loser nothing.
    after = {name: delta_versions(path) for name, path in paths.items()}
    for name, path in paths.items():
        assert after[name] == versions[name] + [versions[name][-1] + 1], (name, versions[name], after[name])
    winner_commit = spark.sql(f"DESCRIBE HISTORY delta.`{paths['silver']}` LIMIT 1").first()
    assert (winner_commit.version, winner_commit.readVersion) == (read_version + 1, read_version)
    assert winner_commit.operation == "WRITE" and winner_commit.isBlindAppend is False
    raced = silver_day_prints(spark, s, RACE_DAY)
    assert raced["silver"][0] > 0

    # The loser, retried as a normal run, is a clean run: nothing moves, nothing doubles.
    fault_lake.step(f"silver retry of {loser}", steps.SILVER_EVENTS, partition_key=RACE_DAY)
    assert silver_day_prints(spark, s, RACE_DAY) == raced
    history = spark.sql(f"DESCRIBE HISTORY delta.`{paths['silver']}`").collect()
    versions_seen = sorted(r.version for r in history)
    assert versions_seen == list(range(versions_seen[0], versions_seen[-1] + 1)), "a gap in the table's history"
    assert history[0].version == read_version + 2 and history[0].operation == "WRITE"
    table = read(spark, s, "silver", "usage_events")
    assert table.count() == table.select("event_id").distinct().count()
    assert_audit_passes(s, spark, FAULT_LAKE_LAWS)
