"""The run watchdog: a STARTED run whose process is gone (or whose pid now names a later
process) is failed; a live one, or one too young to judge, is left alone. Processes are read
from a /proc written by the test, runs from a real (ephemeral) Dagster instance."""

import os
import time

import pytest
from dagster import DagsterEvent, DagsterEventType, DagsterInstance, DagsterRunStatus
from dagster._core.events import EngineEventData
from dagster._core.storage.dagster_run import DagsterRun

from cloud_analytics.orchestration.watchdog import dead_runs, fail_dead_runs, process_started_at

pytestmark = pytest.mark.fast
BOOT = 1_700_000_000
TICK = os.sysconf("SC_CLK_TCK")


def fake_proc(tmp_path, processes: dict[int, float]):
    """A /proc holding the boot time and, per pid, a stat line whose start time is the given epoch."""
    (tmp_path / "stat").write_text(f"cpu  1 2 3\nbtime {BOOT}\n")
    for pid, began in processes.items():
        (tmp_path / str(pid)).mkdir()
        ticks = int((began - BOOT) * TICK)
        fields = ["S"] + ["0"] * 18 + [str(ticks)] + ["0"] * 10  # field 22 (starttime) is the 20th after ")"
        (tmp_path / str(pid) / "stat").write_text(f"{pid} (python -m x) " + " ".join(fields))
    return tmp_path


def started_run(instance, pid: int, job: str = "usage_stream_job") -> DagsterRun:
    run = instance.add_run(DagsterRun(job_name=job, status=DagsterRunStatus.STARTED))
    instance.report_dagster_event(DagsterEvent(DagsterEventType.RUN_START.value, job_name=job), run.run_id)
    instance.report_engine_event(f"Started process for run (pid: {pid}).", run, EngineEventData.in_process(pid))
    return run


def test_a_process_start_time_is_read_from_proc(tmp_path):
    proc = fake_proc(tmp_path, {42: BOOT + 1234.5})
    assert process_started_at(42, proc) == pytest.approx(BOOT + 1234.5, abs=1 / TICK)
    assert process_started_at(43, proc) is None
    assert abs(time.time() - process_started_at(os.getpid())) < 3600  # the real /proc: this process


def test_gone_and_reused_pids_are_dead_live_and_young_runs_are_left_alone(tmp_path):
    with DagsterInstance.ephemeral() as instance:
        gone, alive, reused = started_run(instance, 101), started_run(instance, 102), started_run(instance, 103)
        started = instance.get_run_record_by_id(gone.run_id).start_time
        proc = fake_proc(tmp_path, {102: started - 2, 103: started + 60})  # 103 began a minute after its run
        assert dead_runs(instance, now=started + 5, proc=proc) == []  # younger than the grace period
        found = {d.run.run_id: d.why for d in dead_runs(instance, now=started + 60, proc=proc)}
        assert found == {gone.run_id: "process 101 no longer exists",
                         reused.run_id: "process 103 now belongs to a later process"}
        assert alive.run_id not in found


def test_failing_a_dead_run_records_why_and_leaves_it_failed(tmp_path, monkeypatch):
    import cloud_analytics.orchestration.watchdog as watchdog

    with DagsterInstance.ephemeral() as instance:
        run = started_run(instance, os.getpid())  # a live pid on the real /proc: only the fake one says gone
        monkeypatch.setattr(watchdog, "PROC", fake_proc(tmp_path, {}))
        [dead] = fail_dead_runs(instance, now=time.time() + 60)
        assert dead.run.run_id == run.run_id
        assert instance.get_run_by_id(run.run_id).status == DagsterRunStatus.FAILURE
        messages = [r.message for r in instance.all_logs(run.run_id, of_type=DagsterEventType.ENGINE_EVENT)]
        assert any(f"process {os.getpid()} no longer exists" in m and "run_watchdog_sensor" in m for m in messages)
        assert fail_dead_runs(instance, now=time.time() + 60) == []  # a failed run is not started any more
