"""A load window of a serving table in Cassandra terms, and reading it back.

A partitioned run replaces the rows of its window (inclusive UTC days ``start``..``end``): in
every CQL partition the window may touch, the clustering range ``range_column`` between the
window's first and last day (or the whole partition when the partition key is the date
itself). An unpartitioned table (``ServingSpec.partitions`` None; ``start`` and ``end`` None
here) is replaced whole: every CQL partition gold or Cassandra holds, entirely. Identifiers
come from the table's ``ServingSpec`` (code constants); every value is a bind marker.
"""

from __future__ import annotations

from datetime import date, timedelta

from cloud_analytics.serving.queries import as_date
from cloud_analytics.serving.specs import ServingSpec


def months(start: date, end: date) -> list[str]:
    """``yyyy-MM`` of every month the inclusive window touches."""
    out, day = [], start.replace(day=1)
    while day <= end:
        out.append(day.strftime("%Y-%m"))
        day = (day + timedelta(days=32)).replace(day=1)
    return out


def partition_value(value):
    """Partition key values from Spark (date) and from the driver (cassandra.util.Date) alike."""
    return value if value is None or isinstance(value, str) else as_date(value)


def in_cassandra(session, spec: ServingSpec) -> set:
    """The partition keys the table holds."""
    return {partition_value(r[0]) for r in session.execute(f"SELECT DISTINCT {spec.partition_key} FROM {spec.name}")}


def partitions(session, spec: ServingSpec, start: date | None, end: date | None) -> list:
    """The CQL partitions of the window that hold rows before a load: the ones Cassandra
    holds (so rows gone from gold are deleted too), or for a month-keyed table every month the
    window touches. Partitions only gold's rows bring are known once they stream
    (``GoldStream.partitions``)."""
    if start is None:  # the whole table
        return sorted(in_cassandra(session, spec))
    if spec.by_month:
        return months(start, end)
    if spec.range_column is None:  # the partition key is the date itself (revenue_by_month)
        return sorted(p for p in in_cassandra(session, spec) if start <= p <= end)
    return sorted(in_cassandra(session, spec))


def where(spec: ServingSpec, whole_table: bool = False) -> str:
    """The window's WHERE clause in one CQL partition (bind markers only): a clustering range,
    or the whole partition (``whole_table``, or a table keyed by the date itself)."""
    clause = f"{spec.partition_key} = ?"
    if whole_table or spec.range_column is None:
        return clause
    return clause + f" AND {spec.range_column} >= ? AND {spec.range_column} <= ?"


def bounds(spec: ServingSpec, start: date | None, end: date | None) -> tuple:
    """The values of ``where``'s range markers (none for the whole table: ``start`` None)."""
    return () if start is None or spec.range_column is None else (start, end)


def delete_statement(spec: ServingSpec, whole_table: bool = False) -> str:
    """The range delete of the window in one partition, at the load's timestamp minus one."""
    return f"DELETE FROM {spec.name} USING TIMESTAMP ? WHERE {where(spec, whole_table)}"


def count_window(session, spec: ServingSpec, partitions: list, start: date | None, end: date | None) -> dict:
    """Rows Cassandra holds in the window, per partition (queried concurrently)."""
    from cassandra.concurrent import execute_concurrent_with_args

    statement = session.prepare(f"SELECT count(*) FROM {spec.name} WHERE {where(spec, start is None)}")
    extra = bounds(spec, start, end)
    results = execute_concurrent_with_args(session, statement, [(p, *extra) for p in partitions], concurrency=32)
    return {p: result.one()[0] for p, (_ok, result) in zip(partitions, results)}


def same(a, b) -> bool:
    """Equal values, numbers within 1e-6 (Cassandra doubles vs gold decimals)."""
    if a is None or b is None:
        return a is b
    try:
        return abs(float(a) - float(b)) < 1e-6
    except (TypeError, ValueError):
        return a == b


def sample_check(session, spec: ServingSpec, rows: list[dict]) -> tuple[int, list[str]]:
    """Read each gold row back by primary key (concurrently); (rows compared, problems found)."""
    from cassandra.concurrent import execute_concurrent_with_args

    statement = session.prepare(
        f"SELECT {', '.join(spec.compare)} FROM {spec.name} WHERE " + " AND ".join(f"{k} = ?" for k in spec.key))
    results = execute_concurrent_with_args(session, statement, [tuple(row[k] for k in spec.key) for row in rows],
                                           concurrency=32)
    problems = []
    for row, (_ok, result) in zip(rows, results):
        got = result.one()
        if got is None:
            problems.append(f"missing {[row[k] for k in spec.key]}")
            continue
        for col in spec.compare:
            if not same(getattr(got, col), row[col]):
                problems.append(f"{[row[k] for k in spec.key]} {col}: cassandra {getattr(got, col)} != gold {row[col]}")
    return len(rows), problems


class GoldStream:
    """What the checks need from gold's window, gathered while its rows stream to Cassandra (so
    they cost no Spark job): rows per CQL partition key, the newest ``date_column`` value, and
    a uniform sample of ``sample_size`` rows (seeded, so a re-run samples alike)."""

    def __init__(self, columns: list[str], partition_key: str, date_column: str | None, sample_size: int,
                 seed: int = 0):
        import random

        self.columns = columns
        self.key_at = columns.index(partition_key)
        self.date_at = columns.index(date_column) if date_column else None
        self.size = sample_size
        self.draw = random.Random(seed).random
        self.rows_per_partition: dict = {}
        self.newest = None
        self.seen = 0
        self._sample: list = []

    def watch(self, rows):
        """Yield ``rows`` unchanged, counting and sampling them."""
        counts, sample, size, key_at, date_at = self.rows_per_partition, self._sample, self.size, self.key_at, self.date_at
        for row in rows:
            key = row[key_at]
            counts[key] = counts.get(key, 0) + 1
            if date_at is not None:
                day = row[date_at]
                if day is not None and (self.newest is None or day > self.newest):
                    self.newest = day
            if self.seen < size:
                sample.append(row)
            else:
                slot = int(self.draw() * (self.seen + 1))
                if slot < size:
                    sample[slot] = row
            self.seen += 1
            yield row

    @property
    def partitions(self) -> list:
        return [partition_value(p) for p in self.rows_per_partition]

    @property
    def sample(self) -> list[dict]:
        return [dict(zip(self.columns, row)) for row in self._sample]
