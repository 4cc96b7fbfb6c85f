"""Fingerprints of every Delta and Cassandra table of a lake + keyspace, to compare two runs.

    .venv/bin/python benchmarks/fingerprints.py --out before.json
    # ... change the code, run `make run` on a fresh lake and keyspace over the same landing ...
    .venv/bin/python benchmarks/fingerprints.py --out after.json --against before.json

Each table gets (rows, an order-independent checksum without the columns a run stamps: see
``audit.fingerprints``). With ``--against``, prints the tables whose fingerprint differs and
exits 1 when any does. Reads the usual ``CLOUD_ANALYTICS_*`` settings (lake, keyspace).
"""

from __future__ import annotations

import argparse
import json
import sys

from cloud_analytics.audit import table_fingerprints
from cloud_analytics.config import load_settings
from cloud_analytics.resources.cassandra import CassandraResource
from cloud_analytics.resources.spark import get_spark


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", help="write the fingerprints here (JSON)")
    parser.add_argument("--against", help="compare with fingerprints written earlier")
    parser.add_argument("--no-serving", action="store_true", help="Delta tables only")
    args = parser.parse_args()
    settings = load_settings()
    spark = get_spark(settings)
    if args.no_serving:
        prints = table_fingerprints(settings, spark, None)
    else:
        with CassandraResource.from_settings(settings).session() as session:
            prints = table_fingerprints(settings, spark, session)
    data = {name: list(value) for name, value in prints.items()}
    if args.out:
        with open(args.out, "w") as handle:
            json.dump(data, handle, indent=1, sort_keys=True)
    print(f"{len(data)} tables fingerprinted in {settings.lake} and keyspace {settings.cassandra_keyspace}")
    if not args.against:
        return 0
    with open(args.against) as handle:
        before = json.load(handle)
    differ = sorted(k for k in set(before) | set(data) if before.get(k) != data.get(k))
    for name in differ:
        print(f"  differs: {name}: {before.get(name)} -> {data.get(name)}")
    print(f"{len(set(before) | set(data)) - len(differ)} identical, {len(differ)} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
