"""Runs whose process died: found and failed, so the run queue moves on and the run is retried.

With Dagster's default run launcher a run is a process started by the code server; while that
code server lives it notices a child that died and fails the run. When the code server dies too
(the daemon that started it killed, the machine out of memory) nobody does, and the run stays
STARTED for ever: with the tag limits of ``deploy/dagster.yaml`` (one stream run, one refresh at a
time) it then blocks every later stream run or refresh. The default launcher cannot be asked
about its workers (Dagster's run monitoring needs a launcher that can), so the platform checks
itself: a run's process reports its pid at start (Dagster's "Started process for run" engine
event); a STARTED run whose pid no longer exists, or now belongs to a process started after the
run, is dead. ``run_watchdog_sensor`` fails such runs; the daemon's run retries
(``dagster/max_retries`` on stream runs, refreshes and follow-ups) start them again.

Linux only (``/proc``), and only where the runs execute on the daemon's host: the default launcher
with code servers the daemon starts, as ``make dev`` and ``deploy/dagster.yaml`` run it. Other
launchers (Kubernetes, ECS, Docker) are monitored by Dagster itself and are left alone.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from dagster import DagsterEventType, DagsterInstance, DagsterRun, DagsterRunStatus, RunsFilter

PROC = Path("/proc")
# A run reports STARTED after its process began; a pid whose process began later than this
# past the run's start was reused by another process.
CLOCK_SLACK_S = 5.0


@dataclass(frozen=True)
class DeadRun:
    run: DagsterRun
    pid: int
    why: str


def _boot_time(proc: Path) -> float:
    for line in (proc / "stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    raise OSError("no btime in /proc/stat")


def process_started_at(pid: int, proc: Path | None = None) -> float | None:
    """When process ``pid`` began (epoch seconds), or None when there is no such process."""
    proc = proc or PROC
    try:
        stat = (proc / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name (field 2) may hold spaces: fields after its closing parenthesis.
    start_ticks = int(stat.rsplit(")", 1)[1].split()[19])
    return _boot_time(proc) + start_ticks / os.sysconf("SC_CLK_TCK")


def run_pid(instance: DagsterInstance, run_id: str) -> int | None:
    """The pid a run's process reported when it started (None before it has)."""
    for record in instance.all_logs(run_id, of_type=DagsterEventType.ENGINE_EVENT):
        data = record.dagster_event.engine_event_data if record.dagster_event else None
        pid = (data.metadata or {}).get("pid") if data else None
        if pid is not None:
            return int(getattr(pid, "value", pid))
    return None


def dead_runs(instance: DagsterInstance, now: float | None = None, grace_s: float = 20.0,
              proc: Path | None = None) -> list[DeadRun]:
    """STARTED runs (for at least ``grace_s``) whose process is gone or was replaced."""
    proc = proc or PROC
    if not (proc / "stat").exists():
        return []  # not Linux: nothing to check with
    now = time.time() if now is None else now
    found = []
    for record in instance.get_run_records(RunsFilter(statuses=[DagsterRunStatus.STARTED]), limit=200):
        started = record.start_time
        if started is None or now - started < grace_s:
            continue
        pid = run_pid(instance, record.dagster_run.run_id)
        if pid is None:
            continue
        began = process_started_at(pid, proc)
        if began is None:
            found.append(DeadRun(record.dagster_run, pid, f"process {pid} no longer exists"))
        elif began > started + CLOCK_SLACK_S:
            found.append(DeadRun(record.dagster_run, pid, f"process {pid} now belongs to a later process"))
    return found


def live_runs(instance: DagsterInstance, job_name: str, proc: Path | None = None) -> list[DagsterRun]:
    """STARTED runs of ``job_name`` whose reported process is alive on this host: runs a daemon
    launched and is executing now. (An in-process run reports no pid, and a dead run's does not
    count: neither makes anyone wait.)"""
    proc = proc or PROC
    if not (proc / "stat").exists():
        return []
    alive = []
    for record in instance.get_run_records(RunsFilter(job_name=job_name, statuses=[DagsterRunStatus.STARTED]),
                                           limit=20):
        pid = run_pid(instance, record.dagster_run.run_id)
        began = process_started_at(pid, proc) if pid is not None else None
        if began is not None and record.start_time is not None and began <= record.start_time + CLOCK_SLACK_S:
            alive.append(record.dagster_run)
    return alive


def fail_dead_runs(instance: DagsterInstance, now: float | None = None) -> list[DeadRun]:
    """Fail every dead run, with an engine event saying why (visible in the run's log)."""
    dead = dead_runs(instance, now)
    for d in dead:
        instance.report_engine_event(
            f"The run's {d.why}: it was killed or crashed. Marked failed by run_watchdog_sensor so that the "
            "run queue moves on; runs with dagster/max_retries are retried.", d.run)
        instance.report_run_failed(d.run)
    return dead
