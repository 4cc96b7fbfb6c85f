"""Idempotent loads of gold rows into Cassandra.

A load replaces a window of a serving table (for example one org's days in a date range)
without a moment where two versions mix:

1. every affected Cassandra partition gets a range delete of the window written with
   timestamp ``T - 1`` (``USING TIMESTAMP``), which shadows whatever an earlier load wrote;
2. every gold row is upserted with timestamp ``T``, so it survives that delete whatever the
   order the statements reach the replicas in.

Statements are prepared, marked idempotent and executed concurrently with bounded
concurrency (no multi-partition batches); rows stream from Spark with ``toLocalIterator``
so a large mart is never collected on the driver. Any failed statement fails the load with
the host and the first errors, and the load can simply be retried.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from itertools import islice
from typing import Any, Iterable, Iterator

CHUNK = 2000
CONCURRENCY = 64


class ServingLoadError(RuntimeError):
    """Some rows could not be written; the message says how many, where, and the first errors."""


@dataclass(frozen=True)
class LoadResult:
    table: str
    rows: int
    deleted_ranges: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def execute_all(session, statement, params: Iterable[tuple], target: str, concurrency: int = CONCURRENCY) -> int:
    """Run ``statement`` for every parameter tuple; raise ServingLoadError on any failure."""
    from cassandra.concurrent import execute_concurrent_with_args

    statement.is_idempotent = True
    done = 0
    for chunk in _chunks(params, CHUNK):
        results = execute_concurrent_with_args(session, statement, chunk, concurrency=concurrency,
                                               raise_on_first_error=False)
        failures = [(args, result) for (ok, result), args in zip(results, chunk) if not ok]
        if failures:
            sample = "; ".join(f"{type(err).__name__}: {err}" for _args, err in failures[:3])
            raise ServingLoadError(
                f"{len(failures)} of {len(chunk)} statements failed on Cassandra at {target} "
                f"({statement.query_string.split('(')[0].strip()}): {sample}. The load is idempotent: retry it."
            )
        done += len(chunk)
    return done


def to_cql(value: Any) -> Any:
    """Spark row values → driver values (Decimal stays Decimal, NaN never reaches Cassandra)."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, (list, tuple)):
        return [to_cql(v) for v in value]
    if isinstance(value, dict):
        return {k: to_cql(v) for k, v in value.items()}
    return value


def write_timestamp() -> int:
    """Microseconds since the epoch: the write time of this load."""
    return int(time.time() * 1_000_000)


def load_window(session, table: str, columns: list[str], rows: Iterable[tuple], delete_cql: str | None,
                delete_params: Iterable[tuple], target: str, timestamp: int | None = None) -> LoadResult:
    """Replace a window of ``table``: range deletes at T-1, then upserts at T.

    ``delete_cql`` is ``DELETE FROM t USING TIMESTAMP ? WHERE …`` (the timestamp is its first
    bind; ``delete_params`` gives the others), one execution per affected partition.
    ``timestamp`` (T) defaults to now; the speed layer passes its lower band.
    """
    started = time.monotonic()
    stamp = timestamp if timestamp is not None else write_timestamp()
    deleted = 0
    if delete_cql:
        delete = session.prepare(delete_cql)
        deleted = execute_all(session, delete, ((stamp - 1, *p) for p in delete_params), target)
    names = ", ".join(columns)
    marks = ", ".join("?" for _ in columns)
    insert = session.prepare(f"INSERT INTO {table} ({names}) VALUES ({marks}) USING TIMESTAMP ?")
    written = execute_all(session, insert, (tuple(to_cql(v) for v in row) + (stamp,) for row in rows), target)
    return LoadResult(table, written, deleted, time.monotonic() - started)
