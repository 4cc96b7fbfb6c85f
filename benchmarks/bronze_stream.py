"""Benchmark: wall time of the bronze usage-event stream ingest at a given scale.

    .venv/bin/python benchmarks/bronze_stream.py --scale 1 --scale 10

For each scale: generate the landing data into a temporary lake, run the stream once
(first ingest of every file), run it again (nothing new: the cost of an idle trigger), then
land a renamed copy of one file (incremental ingest of one file, all duplicates). Prints the
figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from cloud_analytics.bronze.stream import EventStream, StreamPaths
from cloud_analytics.config import load_settings
from cloud_analytics.landing.generator import generate
from cloud_analytics.lib.progress import paused, progress
from cloud_analytics.resources.spark import get_spark


def bench(spark, scale: int, max_files: int) -> None:
    root = Path(tempfile.mkdtemp(prefix=f"bench_stream_{scale}_"))
    try:
        t0 = time.perf_counter()
        counts = generate(root / "landing", scale=scale, seed=42)
        gen_s = time.perf_counter() - t0
        events = root / "landing" / "usage_events_stream"
        paths = StreamPaths(str(events), str(root / "bronze/usage_events"), str(root / "bronze/rejects"),
                            str(root / "bronze/ledger"), str(root / "_checkpoints/stream"))

        def run(key: str):
            started = time.perf_counter()
            report = EventStream(spark, paths, key, str(root), max_files_per_trigger=max_files,
                                 log=lambda _m: None).run()
            return report, time.perf_counter() - started

        first, first_s = run("first")
        idle, idle_s = run("idle")
        shutil.copy(events / "events_part_0000.jsonl", events / "events_part_0000_copy.jsonl")
        one, one_s = run("one_file")
        with paused():
            print(f"scale {scale:>4}: {counts['usage_events']:>10,} events in {len(first.files):>5} files | "
                  f"generate {gen_s:6.1f} s | first ingest {first_s:7.1f} s "
                  f"({first.inserted / first_s:,.0f} rows/s, {first.batches} micro-batches) | "
                  f"idle trigger {idle_s:5.1f} s | one re-sent file {one_s:5.1f} s "
                  f"({one.duplicates} duplicates, {one.inserted} inserted)")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, action="append", help="scale(s) to run (default 1 and 10)")
    parser.add_argument("--max-files", type=int, default=200, help="maxFilesPerTrigger (default 200)")
    args = parser.parse_args()
    spark = get_spark(load_settings())
    for scale in progress(args.scale or [1, 10], desc="bronze stream", unit=" scales"):
        bench(spark, scale, args.max_files)


if __name__ == "__main__":
    main()
