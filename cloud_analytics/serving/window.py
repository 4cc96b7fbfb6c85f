"""A partition window of a serving table in Cassandra terms, and reading it back.

A run replaces the rows of its window (inclusive UTC days): in every CQL partition the window
may touch, the clustering range ``range_column`` between the window's first and last day (or
the whole partition when the partition key is the date itself). Identifiers come from the
table's ``ServingSpec`` (code constants); every value is a bind marker.
"""

from __future__ import annotations

from datetime import date, timedelta

from pyspark.sql import DataFrame

from cloud_analytics.lib.windows import date_window_predicate
from cloud_analytics.serving.specs import ServingSpec


def months(start: date, end: date) -> list[str]:
    """``yyyy-MM`` of every month the inclusive window touches."""
    out, day = [], start.replace(day=1)
    while day <= end:
        out.append(day.strftime("%Y-%m"))
        day = (day + timedelta(days=32)).replace(day=1)
    return out


def partitions(session, spec: ServingSpec, served: DataFrame, start: date, end: date) -> list:
    """Every CQL partition the window may touch: from the rows gold serves (``served``: the
    whole mart through ``spec.build``), and from what Cassandra holds."""
    if spec.by_month:
        return months(start, end)
    if spec.range_column is None:  # partition key is the date itself (revenue_by_month)
        return [r[0] for r in served.filter(date_window_predicate(spec.partition_key, start, end))
                .select(spec.partition_key).distinct().collect()]
    from_gold = {r[0] for r in served.select(spec.partition_key).distinct().collect()}
    from_cassandra = {r[0] for r in session.execute(f"SELECT DISTINCT {spec.partition_key} FROM {spec.name}")}
    return sorted(from_gold | from_cassandra)


def where(spec: ServingSpec) -> str:
    """The window's WHERE clause in one CQL partition (bind markers only)."""
    clause = f"{spec.partition_key} = ?"
    return clause + (f" AND {spec.range_column} >= ? AND {spec.range_column} <= ?" if spec.range_column else "")


def bounds(spec: ServingSpec, start: date, end: date) -> tuple:
    """The values of ``where``'s range markers."""
    return (start, end) if spec.range_column else ()


def delete_statement(spec: ServingSpec) -> str:
    """The range delete of the window in one partition, at the load's timestamp minus one."""
    return f"DELETE FROM {spec.name} USING TIMESTAMP ? WHERE {where(spec)}"


def count_window(session, spec: ServingSpec, partitions: list, start: date, end: date) -> int:
    statement = session.prepare(f"SELECT count(*) FROM {spec.name} WHERE {where(spec)}")
    return sum(session.execute(statement, (p, *bounds(spec, start, end))).one()[0] for p in partitions)


def same(a, b) -> bool:
    """Equal values, numbers within 1e-6 (Cassandra doubles vs gold decimals)."""
    if a is None or b is None:
        return a is b
    try:
        return abs(float(a) - float(b)) < 1e-6
    except (TypeError, ValueError):
        return a == b


def sample_check(session, spec: ServingSpec, rows: list[dict]) -> tuple[int, list[str]]:
    """Read each gold row back by primary key; (rows compared, problems found)."""
    statement = session.prepare(
        f"SELECT {', '.join(spec.compare)} FROM {spec.name} WHERE " + " AND ".join(f"{k} = ?" for k in spec.key))
    problems = []
    for row in rows:
        got = session.execute(statement, tuple(row[k] for k in spec.key)).one()
        if got is None:
            problems.append(f"missing {[row[k] for k in spec.key]}")
            continue
        for col in spec.compare:
            if not same(getattr(got, col), row[col]):
                problems.append(f"{[row[k] for k in spec.key]} {col}: cassandra {getattr(got, col)} != gold {row[col]}")
    return len(rows), problems
