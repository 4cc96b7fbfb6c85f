"""Benchmark: freshness, the time from an event file landing to its events being visible
through q1 in Cassandra.

    DAGSTER_HOME=$PWD/.dagster_home .venv/bin/python benchmarks/freshness.py --files 30 --rate 6 [--mode dagster|inprocess]

Needs a built lake and serving layer (`make run`) and staged files
(`cloud-analytics landing stage`; the benchmark stages them when the staging folder is empty).
It lands ``--files`` staged files, ``--rate`` per minute, and for each one polls q1 for its
probe key (the org/date/service with most events in the file, on the file's newest date)
until q1's event_count reaches the number of events landed so far for that key (counted here
from the JSON lines). Prints, per file, the seconds to visibility and which layer served it
(speed: a date after the batch watermark; batch: a date the batch layer already covers, shown
once the refresh run has rebuilt it), then p50, p95 and max per layer. Asserts nothing.

In dagster mode each file's latency is split, from the Dagster instance (DAGSTER_HOME) and the
speed layer's own timings, into: sensor wait (landing → the stream run that ingested it was
created), queue + launch (→ that run started: waiting behind the previous stream run, then
the run process starting), Spark work (→ visible, less the Cassandra write) and Cassandra write
(the speed batches' ``serve_cassandra`` seconds); for batch-served files the refresh run
(stream run end → visible) instead of the last two. The ingesting run is the first stream run
whose bronze step started after the file landed (a run reads every file present when it starts).

- ``--mode dagster`` (default): the real path. `make dev` must be running with its sensors
  on: the file sensor (interval CLOUD_ANALYTICS_SENSOR_INTERVAL) launches a stream run in a
  new process (bronze ingest + speed layer); the refresh sensor then rebuilds the batch layer.
- ``--mode inprocess``: no Dagster daemon. The benchmark runs what the sensors would launch
  itself, in this process with a warm SparkSession, right after each landing: the stream
  step, then the refresh of the dates it touched (one at a time). The floor of the latency
  without the sensor interval and run start-up.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections import Counter
from datetime import date
from pathlib import Path

from cloud_analytics.bronze.specs import EVENTS_DIR
from cloud_analytics.config import load_settings
from cloud_analytics.landing.replay import STAGE_PREFIX, land_file, stage_feed, staged_files
from cloud_analytics.lib.progress import paused, progress
from cloud_analytics.resources.cassandra import CassandraResource
from cloud_analytics.serving import queries


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _keys(path: Path) -> Counter:
    counts = Counter()
    for line in path.read_text().splitlines():
        try:
            e = json.loads(line)
            counts[(e["org_id"], date.fromisoformat(e["timestamp"][:10]), e["service"])] += 1
        except (ValueError, KeyError, TypeError):
            continue
    return counts


def _probe(file_counts: Counter) -> tuple:
    newest = max(d for _o, d, _s in file_counts)
    return max((k for k in file_counts if k[1] == newest), key=lambda k: (file_counts[k], k))


def _visible(session, key: tuple, expected: int) -> str | None:
    org, day, service = key
    for row in queries.q1_daily_cost(session, org, start=day, end=day):
        if row["service"] == service and (row["event_count"] or 0) >= expected:
            return row["source"]
    return None


def _stream_runs(instance, since: float) -> list[dict]:
    """The stream runs created since ``since`` (epoch s): created, started and ended, bronze step
    start, the speed layer's timings."""
    from datetime import datetime, timezone

    from dagster import DagsterEventType, RunsFilter

    from cloud_analytics.orchestration.jobs import STREAM_JOB

    runs = []
    after = datetime.fromtimestamp(since, timezone.utc)
    for record in instance.get_run_records(RunsFilter(job_name=STREAM_JOB, created_after=after)):
        if record.start_time is None:
            continue
        logs = instance.all_logs(record.dagster_run.run_id)
        bronze = next((e.timestamp for e in logs if e.dagster_event is not None
                       and e.dagster_event.event_type == DagsterEventType.STEP_START
                       and e.step_key == "usage_events_stream"), None)
        phases = {}
        for e in logs:
            m = e.asset_materialization
            if m is not None and m.asset_key.path == ["speed", "usage_windows"]:
                phases = getattr(m.metadata.get("phase_seconds"), "value", None) or {}
        runs.append({"created": record.create_timestamp.timestamp(), "started": record.start_time,
                     "ended": record.end_time, "bronze": bronze, "phases": phases})
    return sorted(runs, key=lambda r: r["bronze"] or r["started"])


def _breakdown(runs: list[dict], landed_at: float, visible_at: float, source: str) -> dict | None:
    run = next((r for r in runs if r["bronze"] and r["bronze"] >= landed_at), None)
    if run is None:
        return None
    sensor = max(0.0, run["created"] - landed_at)
    launch = run["started"] - max(landed_at, run["created"])
    if source == "batch" and run["ended"]:
        return {"sensor wait": sensor, "queue + launch": launch, "stream run": run["ended"] - run["started"],
                "refresh": visible_at - run["ended"]}
    cassandra = float(run["phases"].get("serve_cassandra", 0.0))
    return {"sensor wait": sensor, "queue + launch": launch,
            "Spark work": visible_at - run["started"] - cassandra, "Cassandra write": cassandra}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=30, help="files to land (default 30)")
    parser.add_argument("--rate", type=float, default=6.0, help="files per minute (default 6)")
    parser.add_argument("--mode", choices=["dagster", "inprocess"], default="dagster")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait per file (default 600)")
    args = parser.parse_args()
    settings = load_settings()
    landing = settings.landing / EVENTS_DIR
    staging = settings.lake / "staging" / EVENTS_DIR
    if not staged_files(staging):
        result = stage_feed(landing, staging)
        print(f"staged {result.files} files ({result.events:,} events) in {staging}")
    todo = staged_files(staging)[:args.files]
    resource = CassandraResource.from_settings(settings)
    cumulative: Counter = Counter()
    for landed_before in landing.glob(f"{STAGE_PREFIX}_*.jsonl"):  # a previous replay's files count too
        cumulative.update(_keys(landed_before))
    results = []

    stream_lock = threading.Lock()
    if args.mode == "inprocess":
        from dagster import DagsterInstance

        from cloud_analytics.definitions import build_definitions
        from cloud_analytics.orchestration.jobs import REFRESH_JOB, STREAM_JOB
        from cloud_analytics.orchestration.ranges import Plan
        from cloud_analytics.orchestration.runner import get_instance, run_job, stream_run_key
        from cloud_analytics.partitions import stream_runs

        instance: DagsterInstance = get_instance()
        defs = build_definitions(settings)

        def run_stream() -> None:
            """A stream run, then the refresh of the dates it touched: what the two sensors launch."""
            with stream_lock:  # one stream run at a time, as the instance's run queue enforces
                key = stream_run_key()
                instance.add_dynamic_partitions(stream_runs.name, [key])
                step = run_job(defs, Plan(STREAM_JOB, partition_key=key), instance, log=lambda _m: None)
                dates = step.materializations.get("bronze/usage_events", {}).get("dates_touched") or []
                if dates:
                    run_job(defs, Plan(REFRESH_JOB, partition_range=(min(dates), max(dates))), instance,
                            log=lambda _m: None)

    # Files land on schedule in their own thread, whatever the probes see: the rate is the feed's.
    pending: list[dict] = []
    lock = threading.Lock()

    def feed() -> None:
        started = time.monotonic()
        for n, path in enumerate(todo):
            delay = started + n * 60.0 / args.rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            counts = _keys(path)
            with lock:
                cumulative.update(counts)
                key = _probe(counts)
                probe = {"key": key, "expected": cumulative[key], "name": path.name}
            land_file(path, landing)
            probe.update(landed=time.monotonic(), landed_wall=time.time())
            with lock:
                pending.append(probe)
            if args.mode == "inprocess":
                threading.Thread(target=run_stream, daemon=True).start()

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    bar = progress(total=len(todo), desc="freshness", unit=" files")  # files settled; stderr, terminal only
    with resource.session() as session, bar:
        while feeder.is_alive() or pending:
            with lock:
                probes = list(pending)
            for probe in probes:
                source = _visible(session, probe["key"], probe["expected"])
                waited = time.monotonic() - probe["landed"]
                if source is None and waited < args.timeout:
                    continue
                with lock:
                    pending.remove(probe)
                results.append((probe["name"], waited, source, probe["landed_wall"], probe["landed_wall"] + waited))
                bar.update()
                org, day, service = probe["key"]
                with paused():
                    print(f"{probe['name']}: probe {org} {day} {service} ({probe['expected']} events) "
                          + (f"visible after {waited:.1f} s via {source}" if source
                             else f"NOT visible after {waited:.0f} s"), flush=True)
            time.sleep(0.25)
        with stream_lock:
            pass
    print(f"\n{args.mode} mode, {len(results)} files landed at {args.rate:g} per minute")
    runs = []
    if args.mode == "dagster" and results:
        from dagster import DagsterInstance

        runs = _stream_runs(DagsterInstance.get(), min(r[3] for r in results) - 120)
    lost = [n for n, _s, src, *_ in results if not src]
    for layer in ("speed", "batch"):
        seen = [s for _n, s, src, *_ in results if src == layer]
        if not seen:
            continue
        print(f"served by {layer}: {len(seen)} files, p50 {percentile(seen, 0.5):.1f} s, "
              f"p95 {percentile(seen, 0.95):.1f} s, max {max(seen):.1f} s")
        if args.mode == "dagster":
            parts = [b for _n, _s, src, landed_at, visible_at in results if src == layer
                     for b in [_breakdown(runs, landed_at, visible_at, layer)] if b]
            if parts:
                print("  breakdown, p50 (p95) seconds: " + ", ".join(
                    f"{k} {percentile([p[k] for p in parts], 0.5):.1f} ({percentile([p[k] for p in parts], 0.95):.1f})"
                    for k in parts[0]))
    print(f"not visible within {args.timeout:.0f} s: {len(lost)} files" + (f" ({', '.join(lost)})" if lost else ""))
    if len(lost) == len(results):
        print("no file became visible: is `make dev` running with its sensors on?")


if __name__ == "__main__":
    main()
