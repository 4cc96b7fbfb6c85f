"""Benchmark: rows/s of the Cassandra window load (issue 14: >= 10,000 rows/s).

    CLOUD_ANALYTICS_CASSANDRA_PORT=39042 .venv/bin/python benchmarks/serving_load.py \
        [--rows 100000] [--orgs 80] [--spark] [--old] [--start-node /tmp/bench_node]

Loads ``--rows`` generated rows shaped like ``org_daily_usage`` (orgs x days x services) into
a fresh keyspace ``serving_load_bench`` (dropped at the end) on the Cassandra the environment
points at; ``--start-node HOME`` first starts a throw-away local node there on the
environment's ports, and stops it at the end. Each path does what a serving asset does: one
range delete per org at T-1, then the rows at T. Printed per path: rows/s, then the row count
read back.

- ``new``: ``loader.load_window`` (single-partition unlogged batches, concurrent);
- ``new, reload``: the same rows again (the idempotent re-load of a run's retry);
- ``old`` (with ``--old``): the previous path, one prepared INSERT per row through
  ``execute_concurrent_with_args`` (concurrency 64, chunks of 2,000), for comparison.

Rows come from a Python generator, or with ``--spark`` from a Spark DataFrame through
``toLocalIterator`` (what the assets do; includes Spark's time). The machine's load average
is printed with the figures: on a shared 2-core machine they are indicative only.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from itertools import islice
from pathlib import Path

from cloud_analytics.config import load_settings
from cloud_analytics.lib.progress import progress, write
from cloud_analytics.resources.cassandra import CassandraResource
from cloud_analytics.serving.loader import load_window, to_cql, write_timestamp
from cloud_analytics.serving.schema import create_schema
from cloud_analytics.serving.specs import ORG_DAILY_USAGE

KEYSPACE = "serving_load_bench"
SERVICES = ("compute", "storage", "network", "database", "genai", "analytics", "cdn", "queue", "search", "backup")
START = date(2025, 7, 1)


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} cores"


def shape(rows: int, orgs: int) -> int:
    """Days per org so that orgs x days x services >= rows."""
    return -(-rows // (orgs * len(SERVICES)))


def python_rows(rows: int, orgs: int):
    loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)
    days = shape(rows, orgs)

    def generate():
        for o in range(orgs):
            for d in range(days):
                for s, service in enumerate(SERVICES):
                    n = (o * 31 + d * 7 + s) % 997
                    yield (f"org_{o:04d}", START + timedelta(days=d), service, Decimal(f"{n * 1.37:.6f}"),
                           n * 10, n, (n * 1.37) / (n * 10) if n else None,
                           {"cpu_hours": n / 3, "carbon_kg": n / 1000}, n % 3, n % 2, "batch", loaded_at)

    return lambda: islice(generate(), rows)


def spark_rows(settings):
    return lambda rows, orgs: _spark_rows(settings, rows, orgs)


def _spark_rows(settings, rows: int, orgs: int):
    from pyspark.sql import functions as F

    from cloud_analytics.resources.spark import get_spark

    spark = get_spark(settings)
    days = shape(rows, orgs)
    n = (F.col("id") % 997)
    frame = spark.range(rows).select(
        F.format_string("org_%04d", (F.col("id") / (days * len(SERVICES))).cast("int")).alias("org_id"),
        F.date_add(F.lit(START), ((F.col("id") / len(SERVICES)) % days).cast("int")).alias("usage_date"),
        F.element_at(F.array(*[F.lit(s) for s in SERVICES]), (F.col("id") % len(SERVICES) + 1).cast("int"))
        .alias("service"),
        (n * 1.37).cast("decimal(18,6)").alias("daily_cost_usd"), (n * 10).alias("requests"), n.alias("event_count"),
        F.when(n > 0, (n * 1.37) / (n * 10)).alias("cost_per_request"),
        F.create_map(F.lit("cpu_hours"), n / 3, F.lit("carbon_kg"), n / 1000).alias("metrics"),
        (n % 3).cast("int").alias("anomaly_count"), (n % 2).cast("int").alias("negative_cost_count"),
        F.lit("batch").alias("source"), F.current_timestamp().alias("loaded_at")).cache()
    frame.count()  # build it before the clock starts: the figure is the load's

    return lambda: frame.toLocalIterator(prefetchPartitions=True)


def old_load(session, columns, rows, orgs, window, target) -> float:
    """The loader before issue 14: per-partition deletes, then one INSERT per row."""
    from cassandra.concurrent import execute_concurrent_with_args

    started = time.monotonic()
    stamp = write_timestamp()
    delete = session.prepare("DELETE FROM org_daily_usage USING TIMESTAMP ? WHERE org_id = ? "
                             "AND usage_date >= ? AND usage_date <= ?")
    insert = session.prepare(f"INSERT INTO org_daily_usage ({', '.join(columns)}) "
                             f"VALUES ({', '.join('?' for _ in columns)}) USING TIMESTAMP ?")
    for statement, params in ((delete, [(stamp - 1, o, *window) for o in orgs]),
                              (insert, (tuple(to_cql(v) for v in row) + (stamp,) for row in rows))):
        statement.is_idempotent = True
        it = iter(params)
        while chunk := list(islice(it, 2000)):
            results = execute_concurrent_with_args(session, statement, chunk, concurrency=64,
                                                   raise_on_first_error=False)
            failed = [r for ok, r in results if not ok]
            if failed:
                raise RuntimeError(f"{len(failed)} statements failed on {target}: {failed[0]}")
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--orgs", type=int, default=80)
    parser.add_argument("--spark", action="store_true", help="stream the rows from a Spark DataFrame")
    parser.add_argument("--old", action="store_true", help="also time the previous per-row path")
    parser.add_argument("--start-node", metavar="HOME", default=None,
                        help="start a throw-away local node with this home folder, stop it at the end")
    args = parser.parse_args()
    settings = replace(load_settings(), cassandra_keyspace=KEYSPACE)
    node = None
    if args.start_node:
        from cloud_analytics.serving.local_node import LocalNode

        Path(args.start_node).mkdir(parents=True, exist_ok=True)
        node = LocalNode.from_settings(replace(settings, cassandra_home=Path(args.start_node).resolve()))
        node.start(timeout_s=settings.cassandra_start_timeout_s)
    resource = CassandraResource.from_settings(settings)
    spec = ORG_DAILY_USAGE
    columns = spec.column_names
    source = (spark_rows(settings) if args.spark else python_rows)(args.rows, args.orgs)
    orgs = [f"org_{o:04d}" for o in range(args.orgs)]
    window = (START, START + timedelta(days=shape(args.rows, args.orgs) - 1))
    delete = (f"DELETE FROM {spec.name} USING TIMESTAMP ? WHERE org_id = ? AND usage_date >= ? AND usage_date <= ?")
    try:
        with resource.session(use_keyspace=False) as session:
            session.execute(f"DROP KEYSPACE IF EXISTS {KEYSPACE}")
            resource.ensure_keyspace(session)
            session.set_keyspace(KEYSPACE)
            create_schema(session)
            print(f"{args.rows:,} rows shaped like {spec.name} over {args.orgs} orgs, from "
                  f"{'Spark (toLocalIterator)' if args.spark else 'a Python generator'}, into {resource.target}")

            def count() -> int:
                return session.execute(f"SELECT count(*) FROM {spec.name}").one()[0]

            if args.old:
                seconds = old_load(session, columns, source(), orgs, window, resource.target)
                print(f"  old (row by row)  {args.rows / seconds:>9,.0f} rows/s  ({seconds:.2f} s; {count():,} rows "
                      f"read back; {load_average()})")
                session.execute(f"TRUNCATE {spec.name}")
            for label in progress(("new", "new, reload"), desc="serving load", unit=" loads"):
                result = load_window(session, spec.name, columns, source(), delete, [(o, *window) for o in orgs],
                                     resource.target)
                write(f"  {label:<16}  {result.rows_per_second:>9,.0f} rows/s  ({result.seconds:.2f} s; "
                      f"{count():,} rows read back; {load_average()})")  # print, without breaking the bar
            session.execute(f"DROP KEYSPACE IF EXISTS {KEYSPACE}")
    finally:
        if node is not None:
            node.stop()
    print("Indicative figures: the machine is shared (see the load average).")


if __name__ == "__main__":
    main()
