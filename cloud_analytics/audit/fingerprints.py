"""Fingerprints for the idempotence test: every lake table and serving table as a row count and
an order-independent checksum without the columns a run stamps (``ingest_ts``, ``loaded_at``,
...), so two runs over the same input can be compared exactly."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal

from cloud_analytics.audit.gather import delta_tables, run_parallel
from cloud_analytics.config import Settings
from cloud_analytics.lib.lake import table_path
from cloud_analytics.lib.progress import progress

LAKE_LAYERS = ("bronze", "silver", "gold", "quarantine")
# Columns a run stamps with its own time (or a date derived from it): never part of a
# fingerprint, since two runs over the same input differ there by design.
VOLATILE_COLUMNS = frozenset({"ingest_ts", "loaded_at", "ledger_date", "reject_date", "state_date", "late_date"})


def _canonical_columns(df) -> list:
    """Every non-volatile column as a hashable, run-independent expression: doubles to 12
    significant digits (a sum's last bits depend on the order Spark adds in), -0.0 as 0.0, maps
    as sorted entries, and ``raw_record`` JSON without the bronze ``ingest_ts`` it embeds."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import DoubleType, FloatType, MapType

    cols = []
    for f in df.schema.fields:
        if f.name in VOLATILE_COLUMNS:
            continue
        c = F.col(f"`{f.name}`")
        if isinstance(f.dataType, (DoubleType, FloatType)):
            c = F.format_string("%.12g", c.cast("double") + F.lit(0.0))
        elif isinstance(f.dataType, MapType):
            c = F.array_sort(F.map_entries(c))
        elif f.name == "raw_record":
            c = F.regexp_replace(c, r'"ingest_ts":"[^"]*",?', "")
        cols.append(c)
    return cols


def delta_fingerprint(df) -> tuple[int, str]:
    from pyspark.sql import functions as F

    cols = _canonical_columns(df)
    row = df.agg(F.count(F.lit(1)).alias("n"),
                 F.sum(F.xxhash64(*cols).cast("decimal(20,0)")).alias("h")).first()
    return int(row["n"]), str(row["h"] or 0)


def _canonical_value(value) -> str:
    """Run-independent text of a driver value (maps and sets sorted, floats to 12 digits)."""
    if value is None:
        return "\u2205"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return "%.12g" % (value + 0.0)
    if isinstance(value, Decimal):
        return str(value.normalize()) if value == value else "NaN"
    if isinstance(value, (str, bytes, int, date, datetime)):
        return str(value)
    if isinstance(value, Mapping):  # map columns (OrderedMapSerializedKey is not a dict)
        return "{" + ",".join(sorted(f"{_canonical_value(k)}:{_canonical_value(v)}" for k, v in value.items())) + "}"
    if isinstance(value, Iterable):  # list keeps its order; sets (SortedSet too) are sorted
        items = [_canonical_value(v) for v in value]
        return "[" + ",".join(items if isinstance(value, (list, tuple)) else sorted(items)) + "]"
    return str(value)


def cassandra_fingerprint(session, table: str) -> tuple[int, str]:
    """Rows and an order-independent checksum of a Cassandra table (without loaded_at; writetime
    is never read). Each row: its columns sorted by name, canonical text, 64-bit BLAKE2b."""
    statement = f"SELECT * FROM {table}"
    total = rows = 0
    result = session.execute(statement)
    for row in result:
        values = row._asdict()
        text = "|".join(f"{k}={_canonical_value(values[k])}" for k in sorted(values) if k not in VOLATILE_COLUMNS)
        total = (total + int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")) % (1 << 64)
        rows += 1
    return rows, f"{total:016x}"


def table_fingerprints(settings: Settings, spark, cassandra_session) -> dict[str, tuple[int, str]]:
    """(rows, checksum) of every Delta table under the lake's bronze, silver, gold and quarantine
    folders (keys ``<layer>/<table>``) and of every table of the serving keyspace (keys
    ``cassandra/<table>``; skipped when ``cassandra_session`` is None)."""
    tasks = {}
    for layer in LAKE_LAYERS:
        for table in delta_tables(settings.lake, layer, settings.object_store):
            path = table_path(str(settings.lake), layer, table)
            tasks[f"{layer}/{table}"] = lambda p=path: delta_fingerprint(spark.read.format("delta").load(p))
    prints = run_parallel(tasks, desc="fingerprints: lake tables")
    if cassandra_session is not None:
        keyspace = cassandra_session.keyspace or settings.cassandra_keyspace
        cassandra_session.cluster.refresh_schema_metadata()
        tables = sorted(cassandra_session.cluster.metadata.keyspaces[keyspace].tables)
        for table in progress(tables, desc="fingerprints: cassandra tables", unit=" tables"):
            prints[f"cassandra/{table}"] = cassandra_fingerprint(cassandra_session, f"{keyspace}.{table}")
    return dict(sorted(prints.items()))
