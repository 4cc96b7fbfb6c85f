"""Benchmark: the whole pipeline at scale N, through the same path as ``make run``.

    make bench SCALE=10          # or: .venv/bin/python benchmarks/pipeline.py --scale 10

Generates the landing data at scale N (seed 42) into a fresh lake, keyspace and Dagster
instance, starts the local Cassandra node if none runs, and runs every named job layer by
layer (``pipeline.materialize_all``, what ``cloud-analytics run`` runs). For each step it
prints the wall time, the Spark jobs and stages run, the Delta commits, the rows Spark read
and wrote, and rows read per second. Then the audit; then, unless ``--no-rerun``, the same
pipeline again with nothing new landed (the re-run budget); then the four challenge marts
computed from the same landing folder with DuckDB (``duckdb_marts.py``, a benchmark-only
dependency), their agreement with gold and the ratio of the two wall times; last, the
driver JVM's peak resident memory.

Measure alone: other suites or benchmarks on the two cores make the figures meaningless, so
the load average is printed first and last. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from cloud_analytics.lib.progress import paused, progress

# Keep every job and stage in Spark's status store so a step's figures are complete.
RETAIN = "spark.ui.retainedJobs=1000000;spark.ui.retainedStages=1000000"


@dataclass
class Counters:
    """Cumulative Spark and Delta counters of this process and lake, read between steps."""

    jobs: int = 0
    stages: int = 0
    rows_read: int = 0
    rows_written: int = 0
    commits: int = 0

    def minus(self, other: "Counters") -> "Counters":
        return Counters(*(getattr(self, f) - getattr(other, f) for f in self.__dataclass_fields__))


class Probe:
    """Reads the counters: Spark jobs from the DAG scheduler, stage records from the status
    store (py4j), Delta commits as the lake's ``_delta_log/*.json`` files."""

    def __init__(self, spark, lake: Path, service_pid: int | None = None):
        # Through the Spark service the JVM is another process: only commits and its memory are read.
        self.sc = None if service_pid else spark.sparkContext._jsc.sc()
        self.service_pid = service_pid
        self.lake = lake
        self.next_stage = 0
        self.rows_read = 0
        self.rows_written = 0
        self.stages = 0

    def _scan_stages(self) -> None:
        if self.sc is None:
            return
        store = self.sc.statusStore()
        missing = 0
        while missing < 20:  # stage ids are dense; a gap of 20 means we are past the newest
            try:
                stage = store.lastStageAttempt(self.next_stage)
            except Exception:
                missing += 1
                self.next_stage += 1
                continue
            if str(stage.status()) in ("ACTIVE", "PENDING"):
                break
            self.rows_read += stage.inputRecords()
            self.rows_written += stage.outputRecords()
            self.stages += 1
            self.next_stage += 1
            missing = 0
        self.next_stage -= missing

    def read(self) -> Counters:
        self._scan_stages()
        commits = sum(1 for _ in self.lake.rglob("_delta_log/*.json")) if self.lake.exists() else 0
        jobs = self.sc.dagScheduler().numTotalJobs() if self.sc is not None else 0
        return Counters(jobs, self.stages, self.rows_read, self.rows_written, commits)

    def jvm_peak_rss_mb(self) -> float | None:
        """VmHWM of the driver JVM (a child of this process in local mode)."""
        try:
            pid = self._jvm_pid()
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except (OSError, ValueError):
            return None
        return None

    def _jvm_pid(self) -> int:
        from pyspark import SparkContext

        if self.service_pid:
            return self.service_pid

        return int(SparkContext._jvm.java.lang.ProcessHandle.current().pid())


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def fresh_settings(root: Path, scale: int):
    from cloud_analytics.config import load_settings

    env = dict(os.environ)
    extra = ";".join(filter(None, [env.get("CLOUD_ANALYTICS_SPARK_CONF", ""), RETAIN]))
    env.update({"CLOUD_ANALYTICS_LAKE": str(root / "lake"), "CLOUD_ANALYTICS_LANDING": str(root / "landing"),
                "CLOUD_ANALYTICS_CASSANDRA_KEYSPACE": f"bench_scale_{scale}", "CLOUD_ANALYTICS_SPARK_CONF": extra})
    return load_settings(environ=env)


def drop_keyspace(settings) -> None:
    from cloud_analytics.resources.cassandra import CassandraResource

    with CassandraResource.from_settings(settings).session(use_keyspace=False) as session:
        session.execute(f"DROP KEYSPACE IF EXISTS {settings.cassandra_keyspace}", timeout=120)


def run_pipeline(settings, instance, probe: Probe, label: str) -> float:
    from cloud_analytics.pipeline import materialize_all

    print(f"\n{label}")
    header = f"  {'step':<58} {'wall s':>7} {'jobs':>5} {'stages':>6} {'commits':>7} {'rows in':>11} {'rows out':>11} {'rows/s':>10}"
    print(header)
    print("  " + "-" * (len(header) - 2))
    state = {"last": probe.read()}
    bar = progress(desc=label.split(" (")[0], unit=" steps")  # stderr, on a terminal only; total unknown

    def on_step(step) -> None:
        now = probe.read()
        d = now.minus(state["last"])
        state["last"] = probe.read()  # the scan itself is not the next step's cost
        rate = d.rows_read / step.seconds if step.seconds else 0
        bar.update()
        with paused():
            print(f"  {step.name[:58]:<58} {step.seconds:7.1f} {d.jobs:5d} {d.stages:6d} {d.commits:7d} "
                  f"{d.rows_read:11,} {d.rows_written:11,} {rate:10,.0f}", flush=True)

    first = probe.read()
    started = time.monotonic()
    with bar:
        steps = materialize_all(settings, instance, log=lambda _m: None, on_step=on_step)
    seconds = time.monotonic() - started
    total = probe.read().minus(first)
    print("  " + "-" * (len(header) - 2))
    print(f"  {'total (' + str(len(steps)) + ' runs)':<58} {seconds:7.1f} {total.jobs:5d} {total.stages:6d} "
          f"{total.commits:7d} {total.rows_read:11,} {total.rows_written:11,} "
          f"{total.rows_read / seconds if seconds else 0:10,.0f}")
    failed = [c for s in steps for c in s.failed_checks]
    print(f"  asset checks: {'all passed' if not failed else 'FAILED: ' + ', '.join(failed)}")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog="Figures only: nothing is asserted. Run it alone on the machine.")
    parser.add_argument("--scale", type=int, default=1, help="landing data scale (1 = 47,312 records)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--root", type=Path, help="work folder (default: a fresh temporary one, removed at the end)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder and the keyspace")
    parser.add_argument("--resume", action="store_true",
                        help="continue the kept work folder given by --root (after a failed step): no generation, "
                             "same lake, keyspace and Dagster instance; what was built is skipped")
    parser.add_argument("--no-rerun", action="store_true", help="skip the re-run with nothing new landed")
    parser.add_argument("--no-duckdb", action="store_true", help="skip the DuckDB baseline")
    args = parser.parse_args()

    if args.resume and not (args.root and (args.root / "landing").is_dir()):
        raise SystemExit("--resume needs --root: a work folder an earlier --keep run left")
    root = args.root or Path(tempfile.mkdtemp(prefix=f"bench_pipeline_{args.scale}_"))
    if not args.resume and root.exists() and any(root.iterdir()):
        raise SystemExit(f"{root} is not empty: the benchmark needs a fresh lake (or --resume)")
    root.mkdir(parents=True, exist_ok=True)
    print(f"pipeline benchmark, scale {args.scale}, work folder {root}")
    print(f"load average at start: {load()} ({os.cpu_count()} cores)")

    from dagster import DagsterInstance

    from cloud_analytics.audit import run_audit
    from cloud_analytics.landing.generator import generate
    from cloud_analytics.pipeline import ensure_cassandra
    from cloud_analytics.resources.spark import get_spark

    settings = fresh_settings(root, args.scale)
    if not args.resume:
        started = time.monotonic()
        counts = generate(settings.landing, scale=args.scale, seed=args.seed)
        print(f"generated {sum(counts.values()):,} records ({counts.get('usage_events', 0):,} events) "
              f"in {time.monotonic() - started:.1f} s")
    ensure_cassandra(settings, log=lambda m: print(f"  {m}"))
    if not args.resume:
        drop_keyspace(settings)
    started = time.monotonic()
    spark = get_spark(settings)
    print(f"Spark session started in {time.monotonic() - started:.1f} s")
    from cloud_analytics.lib.sessions import is_connect
    from cloud_analytics.resources.spark_service import SparkService

    service_pid = SparkService.from_settings(settings).pid() if is_connect(spark) else None
    if service_pid:
        print(f"through the Spark service (pid {service_pid}): Spark jobs, stages and rows are not counted")
    probe = Probe(spark, settings.lake, service_pid)
    (root / "dagster_home").mkdir(exist_ok=True)
    (root / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    instance = DagsterInstance.local_temp(str(root / "dagster_home"))
    try:
        label = ("resumed run (what the earlier run built is skipped)" if args.resume
                 else "first run (every layer, landing to Cassandra)")
        first = run_pipeline(settings, instance, probe, label)
        started = time.monotonic()
        report = run_audit(settings, spark)
        verdict = "all laws hold" if report.ok else "FAILED: " + "; ".join(
            f"{law.name}: {law.detail}" for law in report.laws if not law.ok)
        print(f"\naudit: {len(report.laws)} laws, {verdict} ({time.monotonic() - started:.1f} s)")
        if not args.no_rerun:
            run_pipeline(settings, instance, probe, "re-run (nothing new landed)")
        if not args.no_duckdb:
            compare_duckdb(spark, settings, first)
        peak = probe.jvm_peak_rss_mb()
        print(f"\ndriver JVM peak resident memory: {peak:,.0f} MiB (spark.driver.memory {settings.spark_driver_memory})"
              if peak else "\ndriver JVM peak resident memory: unknown")
        print(f"load average at end: {load()}")
        return 0 if report.ok else 2
    finally:
        instance.dispose()
        if not args.keep and not args.root:
            drop_keyspace(settings)
            shutil.rmtree(root, ignore_errors=True)


def compare_duckdb(spark, settings, pipeline_seconds: float) -> None:
    import duckdb_marts

    marts, seconds = duckdb_marts.compute(settings.landing)
    verdicts = duckdb_marts.compare(spark, str(settings.lake), marts)
    print(f"\nDuckDB baseline: the four challenge marts from the landing folder in {seconds:.1f} s")
    for name, verdict in verdicts.items():
        print(f"  {name:<32} {verdict}")
    print(f"  pipeline / DuckDB wall time: {pipeline_seconds / seconds:,.1f}x "
          f"({pipeline_seconds:.1f} s vs {seconds:.1f} s; the pipeline also checks, quarantines and serves)")


if __name__ == "__main__":
    raise SystemExit(main())
