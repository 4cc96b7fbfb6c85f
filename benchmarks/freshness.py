"""Benchmark: freshness, the time from an event file landing to its events being visible
through q1 in Cassandra.

    .venv/bin/python benchmarks/freshness.py [--files 6] [--rate 2] [--mode dagster|inprocess]

Needs a built lake and serving layer (`make run`) and staged files
(`cloud-analytics landing stage`; the benchmark stages them when the staging folder is empty).
It lands ``--files`` staged files, ``--rate`` per minute, and for each one polls q1 for its
probe key (the org/date/service with most events in the file, on the file's newest date)
until q1's event_count reaches the number of events landed so far for that key (counted here
from the JSON lines). Prints, per file, the seconds to visibility and which layer served it
(speed or batch), then p50, p95 and max. Asserts nothing.

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=6, help="files to land (default 6)")
    parser.add_argument("--rate", type=float, default=2.0, help="files per minute (default 2)")
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

    with resource.session() as session:
        started = time.monotonic()
        for n, path in enumerate(todo):
            delay = started + n * 60.0 / args.rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            counts = _keys(path)
            cumulative.update(counts)
            key = _probe(counts)
            target = land_file(path, landing)
            landed = time.monotonic()
            if args.mode == "inprocess":
                threading.Thread(target=run_stream, daemon=True).start()
            source = None
            while source is None and time.monotonic() - landed < args.timeout:
                source = _visible(session, key, cumulative[key])
                if source is None:
                    time.sleep(0.5)
            seconds = time.monotonic() - landed
            results.append((target.name, seconds, source))
            print(f"{target.name}: probe {key[0]} {key[1]} {key[2]} ({cumulative[key]} events) "
                  + (f"visible after {seconds:.1f} s via {source}" if source else f"NOT visible after {seconds:.0f} s"))
        with stream_lock:
            pass
    seen = [s for _n, s, src in results if src]
    if seen:
        print(f"\nfreshness over {len(seen)} of {len(results)} files ({args.mode}): p50 {percentile(seen, 0.5):.1f} s, "
              f"p95 {percentile(seen, 0.95):.1f} s, max {max(seen):.1f} s; served by "
              f"{dict(Counter(src for _n, _s, src in results))}")
    else:
        print("\nno file became visible: is `make dev` running with its sensors on?")


if __name__ == "__main__":
    main()
