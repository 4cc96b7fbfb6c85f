"""Benchmark: Cassandra load throughput and the latency of the five dashboard queries.

    .venv/bin/python benchmarks/serving_latency.py [--runs 200]

Needs a lake whose gold and serving layers are built (`make run`) and the Cassandra the
environment points at. Reloads org_daily_usage from gold (rows/s of the idempotent window
load), then runs q1..q5 `--runs` times each for orgs taken in turn, and prints p50 / p99 /
max per query. Asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import time

from pyspark.sql import functions as F

from cloud_analytics.lib.lake import table_path
from cloud_analytics.config import load_settings
from cloud_analytics.lib.progress import progress
from cloud_analytics.resources.cassandra import CassandraResource
from cloud_analytics.resources.spark import get_spark
from cloud_analytics.serving import queries
from cloud_analytics.serving.specs import SERVING_BY_NAME as TABLES_BY_NAME
from cloud_analytics.serving.loader import load_window


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200, help="executions per query (default 200)")
    args = parser.parse_args()
    settings = load_settings()
    spark = get_spark(settings)
    gold = spark.read.format("delta").load(table_path(str(settings.lake), "gold", "org_daily_usage_by_service"))
    orgs = [r[0] for r in gold.select("org_id").distinct().orderBy("org_id").collect()]
    start, end = gold.agg(F.min("usage_date"), F.max("usage_date")).first()
    spec = TABLES_BY_NAME["org_daily_usage"]
    resource = CassandraResource.from_settings(settings)
    with resource.session() as session:
        rows = [tuple(r) for r in spec.build(gold).select(*spec.column_names).collect()]
        delete = f"DELETE FROM {spec.name} USING TIMESTAMP ? WHERE org_id = ? AND usage_date >= ? AND usage_date <= ?"
        result = load_window(session, spec.name, spec.column_names, rows, delete, [(o, start, end) for o in orgs],
                             resource.target)
        print(f"load org_daily_usage: {result.rows:,} rows + {result.deleted_ranges} range deletes in "
              f"{result.seconds:.2f} s = {result.rows_per_second:,.0f} rows/s")
        calls = {
            "q1 daily cost, 30 days": lambda o: queries.q1_daily_cost(session, o, as_of=end),
            "q2 top services, 14 days": lambda o: queries.q2_top_services(session, o, as_of=end),
            "q3 critical tickets, all orgs": lambda o: queries.q3_critical_tickets(session, None, as_of=end),
            "q4 monthly revenue, one org": lambda o: queries.q4_monthly_revenue(session, o, as_of=end),
            "q5 genai per day, 30 days": lambda o: queries.q5_genai(session, o, as_of=end),
        }
        for name, call in calls.items():
            call(orgs[0])  # prepare the statements outside the timing
            timings = []
            # The bar draws between two timings, never inside one; it is closed before the print.
            for i in progress(range(args.runs), desc=name[:2], unit=" queries"):
                t0 = time.perf_counter()
                call(orgs[i % len(orgs)])
                timings.append((time.perf_counter() - t0) * 1000)
            print(f"{name:<32} p50 {percentile(timings, 0.5):6.2f} ms  p99 {percentile(timings, 0.99):6.2f} ms  "
                  f"max {max(timings):6.2f} ms  mean {statistics.mean(timings):6.2f} ms  (n={args.runs})")


if __name__ == "__main__":
    main()
