"""Benchmark: how long each dashboard page takes to answer, in a real browser.

    .venv/bin/python benchmarks/dashboard.py [--loads 10]

Needs the serving layer loaded (`make run`) in the Cassandra the environment points at. Starts
`cloud-analytics dashboard` on a free port and Debian's headless chromium, then loads the
platform overview, the view of the org with the highest cost and the view of the org with the
lowest, ``--loads`` times each (the first load of each is reported apart: it includes the
driver's connection and the first statement preparations). Per page it prints the time from
navigation to the page fully rendered (the timing caption, written last, is visible) and the
server's own figure (the caption: every Cassandra read of the page). Run it alone on the
machine; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the browser helpers of the test suite

from cloud_analytics.config import load_settings  # noqa: E402
from cloud_analytics.resources.cassandra import CassandraResource  # noqa: E402
from cloud_analytics.serving import queries  # noqa: E402
from cloud_analytics_tests.browser import web  # noqa: E402

SERVER_MS = re.compile(r"in ([\d,]+) ms")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def load(driver, url: str) -> tuple[float, float]:
    """(seconds from navigation to the rendered page, the server's milliseconds)."""
    driver.get("about:blank")
    started = time.perf_counter()
    web.open_streamlit(driver, url, timeout_s=60)
    elapsed = time.perf_counter() - started
    assert not web.errors(driver), web.errors(driver)
    caption = driver.find_element("css selector", ".st-key-timing").text
    return elapsed, float(SERVER_MS.search(caption).group(1).replace(",", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loads", type=int, default=10, help="loads per page after the first (default 10)")
    args = parser.parse_args()
    settings = load_settings()
    with CassandraResource.from_settings(settings).session() as session:
        ranking = queries.org_ranking(session)
    pages = {"platform": "/", f"org {ranking[0]['org_id']} (highest cost)": f"/org?org={ranking[0]['org_id']}",
             f"org {ranking[-1]['org_id']} (lowest cost)": f"/org?org={ranking[-1]['org_id']}"}
    print(f"dashboard benchmark: {len(ranking)} orgs served, {args.loads} loads per page, "
          f"load average {os.getloadavg()[0]:.2f} at the start")
    log = Path(tempfile.mkdtemp(prefix="dashboard-bench-")) / "dashboard.log"
    with web.dashboard(dict(os.environ), log) as base:
        driver = web.chrome()
        try:
            print(f"{'page':<36} {'first s':>8} {'p50 s':>7} {'p95 s':>7} {'max s':>7} {'server p50 ms':>14}")
            for name, path in pages.items():
                first, _ = load(driver, base + path)
                runs = [load(driver, base + path) for _ in range(args.loads)]
                seconds = [s for s, _ in runs]
                print(f"{name:<36} {first:>8.2f} {statistics.median(seconds):>7.2f} {percentile(seconds, 0.95):>7.2f} "
                      f"{max(seconds):>7.2f} {statistics.median(ms for _, ms in runs):>14.0f}")
        finally:
            driver.quit()
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
