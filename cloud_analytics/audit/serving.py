"""Law 4, ``cassandra = gold`` per serving table fed from gold (``serving.specs``), and reading
Cassandra back with the driver, one query per partition.

Gold's side is the spec's own ``build`` applied to the whole mart (the rows the loader writes):
its row count and the sums of the spec's ``total`` column and ``extras``. Cassandra's side is the
same figures over the rows whose ``source`` is ``batch``. Speed-layer rows (``source = 'speed'``)
are provisional: they cover dates the batch layer has not loaded yet and have no gold
counterpart, so they are reported apart, not compared.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from cloud_analytics.audit.gather import Request
from cloud_analytics.audit.reconcile import equal, zero
from cloud_analytics.audit.report import AuditReport, Law, ServingFigures, fmt, missing
from cloud_analytics.lib.progress import progress
from cloud_analytics.serving.specs import SERVING_SPECS, ServingSpec

SOURCE = "source"  # 'batch' or 'speed' on tables the speed layer also writes


def served_from_gold() -> list[ServingSpec]:
    return [spec for spec in SERVING_SPECS if spec.mart is not None]


def _figures(spec: ServingSpec) -> list[tuple[str, str]]:
    """(name, Spark SQL aggregate) of gold's side, over the rows ``build`` makes of the mart."""
    out = [("rows", "count(1)")]
    total = spec.total
    if total is not None:
        out += [(c, f"sum(`{c}`)") for c in dict.fromkeys([total.column, *(c for c, _ in total.extras)])]
        if total.snapshot:
            out.append(("newest", f"max(`{total.snapshot}`)"))
    return out


def requests() -> dict[str, Request]:
    def gold_side(spec: ServingSpec):
        def read(reader) -> dict[str, Any] | None:
            from pyspark.sql import functions as F

            mart = reader.read("gold", spec.mart)
            if mart is None:
                return None
            figures = _figures(spec)
            row = spec.build(mart).agg(*[F.expr(e).alias(n) for n, e in figures]).first()
            return {n: row[n] for n, _ in figures}
        return read

    return {f"serving/{spec.name}": gold_side(spec) for spec in served_from_gold()}


def serving_laws(facts: dict, report: AuditReport, session, target: str) -> None:
    """Law 4: Cassandra (batch rows) = gold, per serving table."""
    for spec in progress(served_from_gold(), desc="audit: cassandra tables", unit=" tables"):
        total = spec.total
        extras = [c for c, _ in total.extras] if total else []
        figures = ServingFigures(spec.name, spec.mart, total.column if total else None)
        report.serving.append(figures)
        name = f"cassandra = gold: {spec.name}"
        gold = facts[f"serving/{spec.name}"]
        if gold is None:
            figures.missing = f"gold/{spec.mart} does not exist"
            report.laws.append(missing(name, f"gold/{spec.mart}"))
            continue
        figures.gold_rows = int(gold["rows"])
        if total:
            figures.gold_total = gold[total.column]
            figures.extras = {c: (gold[c], None) for c in extras}
        speed_capable = SOURCE in spec.column_names
        columns = [total.column, *extras] if total else []
        if speed_capable:
            columns.append(SOURCE)
        if total and total.snapshot:
            columns.append(total.snapshot)
        try:
            served = read_serving(session, spec.name, spec.partition_key, columns, target)
        except ServingTableMissing as exc:  # the keyspace has no such table: serving never ran
            figures.missing = str(exc)
            report.laws.append(Law(name, False, f"{exc}: run the pipeline"))
            continue
        batch = [r for r in served if not speed_capable or r.get(SOURCE) == "batch"]
        speed = [r for r in served if speed_capable and r.get(SOURCE) == "speed"]
        unknown = len(served) - len(batch) - len(speed)  # neither layer wrote these
        figures.cassandra_rows = len(batch)
        figures.speed_rows = len(speed)
        if total:
            figures.cassandra_total = _sum(r[total.column] for r in batch)
            figures.speed_total = _sum(r[total.column] for r in speed) if speed else None
            figures.extras = {c: (g, _sum(r[c] for r in batch)) for c, (g, _) in figures.extras.items()}
        ok = figures.gold_rows == figures.cassandra_rows and (
            total is None or equal(zero(figures.gold_total), zero(figures.cassandra_total)))
        ok = ok and all(equal(zero(g), zero(c)) for g, c in figures.extras.values())
        ok = ok and not unknown
        parts = [f"rows {figures.gold_rows:,} gold = {figures.cassandra_rows:,} cassandra"]
        if total:
            parts.append(f"{total.column} {fmt(figures.gold_total)} = {fmt(figures.cassandra_total)}")
        parts += [f"{column} {fmt(g)} = {fmt(c)}" for column, (g, c) in figures.extras.items()]
        if speed:
            parts.append(f"+ {len(speed):,} speed rows (provisional, not compared)")
        if unknown:
            parts.append(f"{unknown:,} rows whose source is neither batch nor speed")
        report.laws.append(Law(name, ok, "; ".join(parts)))
        if total and total.counts_source in report.counts:
            report.counts[total.counts_source]["cassandra"] = _served_count(total, batch, gold.get("newest"))


def _served_count(total, batch: list[dict], newest) -> int | None:
    """The source's records as Cassandra holds them: the sum of ``counts_column``, or the rows
    of gold's newest ``snapshot`` (None when gold has none)."""
    if total.counts_column is not None:
        value = _sum(r[total.counts_column] for r in batch)
        return None if value is None else int(value)
    if total.snapshot is None:
        return len(batch)
    if newest is None:
        return None
    return sum(1 for r in batch if r[total.snapshot] is not None and _as_date(r[total.snapshot]) == newest)


def _as_date(value) -> date:
    """Driver dates come back as ``cassandra.util.Date`` (or ``date``)."""
    return value if isinstance(value, date) else value.date()


def _sum(values: Iterable) -> Any:
    """Exact sum of the non-null values (Decimal stays Decimal); None when there are none."""
    total = None
    for v in values:
        if v is None:
            continue
        total = v if total is None else total + v
    return total


# -- reading Cassandra --------------------------------------------------------------------------


class ServingTableMissing(RuntimeError):
    """A serving table is not in the keyspace (serving never ran)."""


def _execute(session, statement, params, target: str):
    """Run one query, turning a lost connection into CassandraUnavailableError."""
    from cassandra import OperationTimedOut
    from cassandra.cluster import NoHostAvailable

    from cloud_analytics.resources.cassandra import CassandraUnavailableError

    try:
        return session.execute(statement, params)
    except (NoHostAvailable, OperationTimedOut) as exc:
        raise CassandraUnavailableError(f"Cannot reach Cassandra at {target} while auditing: {exc}") from None


def _table_exists(session, table: str) -> bool:
    def known() -> bool:
        meta = session.cluster.metadata.keyspaces.get(session.keyspace)
        return meta is not None and table in meta.tables
    if known():
        return True
    session.cluster.refresh_schema_metadata()  # created after this session connected?
    return known()


def read_serving(session, table: str, partition_key: str, columns: list[str], target: str) -> list[dict]:
    """The given columns of every row of ``table``, read one partition at a time (the
    partitions listed with ``SELECT DISTINCT``), as dicts."""
    from cassandra.concurrent import execute_concurrent_with_args

    from cloud_analytics.resources.cassandra import CassandraUnavailableError

    if not _table_exists(session, table):
        raise ServingTableMissing(f"{session.keyspace}.{table} does not exist")
    partitions = [r[0] for r in _execute(session, f"SELECT DISTINCT {partition_key} FROM {table}", None, target)]
    select = ", ".join(dict.fromkeys([partition_key, *columns]))
    statement = session.prepare(f"SELECT {select} FROM {table} WHERE {partition_key} = ?")
    statement.fetch_size = 5000
    rows: list[dict] = []
    results = execute_concurrent_with_args(session, statement, [(p,) for p in partitions], concurrency=32,
                                           raise_on_first_error=False)
    for ok, result in results:
        if not ok:
            raise CassandraUnavailableError(f"Cannot read {table} from Cassandra at {target}: {result}")
        rows.extend(r._asdict() for r in result)
    return rows
