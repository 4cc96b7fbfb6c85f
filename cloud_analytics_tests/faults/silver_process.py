"""One silver usage-events run in an OS process of its own, for the hard-kill tests
(``test_hard_kills.py``)::

    python -m cloud_analytics_tests.faults.silver_process DAY NAME RESULT [--kill-after-silver MARKER]
                                                          [--barrier DIR --racers N] [--dagster-home DIR]

The process builds its own SparkSession (its own JVM: give it a small
``CLOUD_ANALYTICS_SPARK_DRIVER_MEMORY``) and materializes silver ``usage_events`` and its
quarantine for partition DAY with the project's definitions and the fault tests' steps
(``steps.SILVER_EVENTS``), on the lake, keyspace and secrets of the environment (the test
exports the fault lake's). RESULT receives one JSON object: ``{"outcome": "ok" | "failed",
"error": ...}``; the exit code is 0 (ok) or 3 (the run failed).

Faults are injected around ``silver.assets.replace_where`` only, never by raising:

- ``--kill-after-silver MARKER``: once the write of the silver table has returned (its Delta
  commit is in the log), MARKER is written and the whole process group (this Python process,
  its Spark JVM and Python workers) gets SIGKILL: no exception, no ``finally``, no Dagster
  failure handling, no JVM shutdown hook runs. The process must lead its own process group
  (``start_new_session=True``), or it refuses to start.
- ``--barrier DIR``: the silver table's write waits *inside its Delta transaction* until every
  one of N racers has reached the same point. The wait is a Python UDF in the plan of the
  written DataFrame, so it runs in the write's own Spark job: after Delta's
  ``withNewTransaction`` read the table's version, before the transaction commits. Each racer
  marks ``DIR/<NAME>.ready`` and waits for N marks (at most 300 s).
- ``--dagster-home DIR``: runs are recorded in a persistent instance there (SQLite), so the
  test can read what a killed run left behind; else an ephemeral one.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path

BARRIER_TIMEOUT_S = 300.0


def _gate(folder: str, name: str, racers: int, timeout_s: float):
    """A row predicate (always true) that first waits until ``racers`` marks are in ``folder``.
    Runs in Spark's Python workers: stdlib only, and a closure so it is pickled by value."""

    def gate(_value) -> bool:
        import os as _os
        import time as _time

        mine = _os.path.join(folder, f"{name}.ready")
        if not _os.path.exists(mine):
            with open(mine + ".tmp", "w") as out:
                out.write(str(_os.getpid()))
            _os.replace(mine + ".tmp", mine)
        deadline = _time.monotonic() + timeout_s
        while sum(1 for n in _os.listdir(folder) if n.endswith(".ready")) < racers:
            if _time.monotonic() > deadline:
                raise TimeoutError(f"barrier {folder}: not every racer arrived within {timeout_s:.0f} s")
            _time.sleep(0.05)
        return True

    return gate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("day")
    parser.add_argument("name")
    parser.add_argument("result", type=Path)
    parser.add_argument("--kill-after-silver", type=Path, default=None)
    parser.add_argument("--barrier", type=Path, default=None)
    parser.add_argument("--racers", type=int, default=2)
    parser.add_argument("--dagster-home", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.kill_after_silver is not None and os.getpgid(0) != os.getpid():
        # killpg(0) would reach whatever started us: only ever kill a group of our own.
        raise SystemExit("--kill-after-silver needs a process group of its own (start_new_session=True)")

    from dagster import DagsterInstance
    from pyspark.sql import functions as F

    import cloud_analytics.silver.assets as silver_assets
    from cloud_analytics.config import REPO_ROOT, load_settings
    from cloud_analytics.definitions import build_resources
    from cloud_analytics.lib.errors import PipelineError
    from cloud_analytics.lib.lake import table_path
    from cloud_analytics_tests.faults import steps

    settings = load_settings(dotenv=REPO_ROOT / ".env.does-not-exist")
    silver_path = table_path(str(settings.lake), "silver", "usage_events")
    real_replace_where = silver_assets.replace_where

    def replace_where(df, path, predicate, partition_by):
        if path == silver_path and args.barrier is not None:
            gate = F.udf(_gate(str(args.barrier), args.name, args.racers, BARRIER_TIMEOUT_S), "boolean")
            df = df.filter(gate.asNondeterministic()(F.col("event_id")))
        real_replace_where(df, path, predicate, partition_by)
        if path == silver_path and args.kill_after_silver is not None:
            args.kill_after_silver.write_text("silver committed\n")
            os.killpg(0, signal.SIGKILL)

    silver_assets.replace_where = replace_where
    if args.dagster_home is not None:
        args.dagster_home.mkdir(parents=True, exist_ok=True)
        instance = DagsterInstance.local_temp(tempdir=str(args.dagster_home))
    else:
        instance = DagsterInstance.ephemeral()
    with instance:
        try:
            steps.step(args.name, steps.SILVER_EVENTS, build_resources(settings), instance, partition_key=args.day)
            outcome = {"outcome": "ok", "error": None}
        except PipelineError as exc:
            outcome = {"outcome": "failed", "error": str(exc)}
    args.result.write_text(json.dumps(outcome))
    print(json.dumps(outcome), flush=True)
    return 0 if outcome["outcome"] == "ok" else 3


if __name__ == "__main__":
    sys.exit(main())
