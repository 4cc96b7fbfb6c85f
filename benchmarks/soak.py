"""Benchmark: the chaos soak (twenty minutes by default).

    .venv/bin/python benchmarks/soak.py [--minutes 20] [--seed 7] [--kills 12] [--rate 6] [--root DIR]

A world of its own (landing data, Cassandra node, Spark service, Dagster instance and daemon on
free loopback ports; see ``cloud_analytics_tests/chaos/soak.py``): builds the batch layer, then
feeds staged files at ``--rate`` per minute for ``--minutes`` while SIGKILLing, on a schedule drawn
from ``--seed``, a stream run, a refresh run, the Spark service, the Cassandra node and the
Dagster daemon (the servers restarted after a few seconds). At the end it waits for the runs to
catch up and runs the audit. Prints what was killed and when, the seconds to the next successful
run after each kill, the freshness percentiles of the landed files, and the audit's verdict.
The same seed gives the same kills at the same offsets. Run it alone on the machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the soak harness lives with the tests

from cloud_analytics_tests.chaos.soak import Soak, report, schedule, write_json  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=20.0, help="length of the feed (default 20)")
    parser.add_argument("--seed", type=int, default=7, help="the kill schedule's seed (default 7)")
    parser.add_argument("--kills", type=int, default=12, help="kills over the soak (default 12)")
    parser.add_argument("--rate", type=float, default=6.0, help="files landed per minute (default 6)")
    parser.add_argument("--root", help="work folder (default: a new temporary one, removed at the end)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    root = Path(args.root or tempfile.mkdtemp(prefix="soak-"))
    files = int(args.minutes * args.rate)
    soak = Soak(root, seed=args.seed, minutes=args.minutes, rate_per_min=args.rate, kills=args.kills)
    print(f"schedule (seed {args.seed}): " + ", ".join(f"{k.kind}@{k.at_s:.0f}s"
                                                       for k in schedule(args.seed, args.minutes, args.kills)))
    print(f"load average {os.getloadavg()[0]:.2f} at the start; work folder {root}", flush=True)
    try:
        caught_up, audit, figures = soak.soak(files)
        print(report(soak, figures, caught_up, audit))
        write_json(root / "soak.json", soak, figures)
        print(audit[-3000:])
        print(f"load average {os.getloadavg()[0]:.2f} at the end")
        return 0 if "(exit 0)" in audit else 1
    finally:
        soak.stop_all()
        if not args.keep and not args.root:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
