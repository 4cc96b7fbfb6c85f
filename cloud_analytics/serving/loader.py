"""Idempotent loads of gold rows into Cassandra.

A load replaces a window of a serving table (for example one org's days in a date range)
without a moment where two versions mix:

1. every affected Cassandra partition gets a range delete of the window written with
   timestamp ``T - 1`` (``USING TIMESTAMP``), which shadows whatever an earlier load wrote;
2. every gold row is upserted with timestamp ``T``, so it survives that delete whatever the
   order the statements reach the replicas in (which is why partitions only known from the
   rows, empty in Cassandra when the load began, can get their delete after the upserts).

How it is fast (issue 14: >= 10,000 rows/s) while keeping those semantics:

- **Single-partition unlogged batches.** Rows are grouped by their CQL partition key (the
  prepared statement's ``routing_key_indexes``, so callers pass nothing more) and sent as
  ``UNLOGGED`` batches of one partition each: the coordinator applies such a batch as one
  mutation (no batch log, no cross-partition fan-out), and the driver routes it token-aware
  from its first statement's routing key. Each statement keeps its own ``USING TIMESTAMP``, so a
  batch changes nothing about T-1 / T.
- **Bounded batch size**, see ``MAX_BATCH_BYTES``.
- **Concurrent, bounded in flight**: ``CONCURRENCY`` requests at once via ``execute_async``.
- **Cheap binding**: values are serialized once with the column types of the prepared
  statement; text, date and timestamp values, which repeat across rows (org ids, days, the
  load's ``loaded_at``), are serialized once per distinct value; ``to_cql`` runs only on the
  columns whose CQL type can take a NaN or a nested value.
- The driver's event loop is already libev with its Cython extensions (``cassandra.cluster.
  DefaultConnection`` is ``LibevConnection``); asyncio/asyncore reactors are slower, so nothing
  to switch.

Every statement is idempotent (fixed timestamps): the batches are marked so, and any failed
request fails the load with the table, the host and the first errors; the load can simply be
retried. Rows stream in (``toLocalIterator``): at most ``MAX_BUFFERED_ROWS`` wait in partial
batches, so a large mart is never held on the driver.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

CONCURRENCY = 64
# Cassandra fails a batch above batch_size_fail_threshold (50 KiB; it warns above 5 KiB). 5.0
# exempts single-partition batches from both, but a proxy or an older/managed server may not,
# so a batch stays at a third of the fail threshold by our own estimate: the serialized values
# plus CELL_OVERHEAD_BYTES per cell (Cassandra counts ~8-10 bytes of timestamp and flags per
# cell: measured 245 bytes for a 3-cell row of 214 value bytes), and at most MAX_BATCH_ROWS rows.
# org_daily_usage rows (~130 value bytes, 13 cells) make batches of ~48 rows.
MAX_BATCH_BYTES = 16 * 1024
MAX_BATCH_ROWS = 100
CELL_OVERHEAD_BYTES = 16
# Rows waiting in partial batches (one per partition seen) before all of them are sent anyway.
MAX_BUFFERED_ROWS = 10_000
# Distinct values of a text/date/timestamp column whose serialization is remembered.
MEMO_SIZE = 4096


class ServingLoadError(RuntimeError):
    """Some rows could not be written; the message says how many, where, and the first errors.
    ``transient``: the requests failed (a node down or timing out), so a later retry may succeed;
    False for a row no retry can write."""

    def __init__(self, message: str, transient: bool = False):
        super().__init__(message)
        self.transient = transient


class _Unbindable(TypeError):
    """A value its column's CQL type cannot take (a data or schema bug: a retry will not help)."""


@dataclass(frozen=True)
class LoadResult:
    table: str
    rows: int
    deleted_ranges: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def to_cql(value: Any) -> Any:
    """Spark row values → driver values (Decimal stays Decimal, NaN never reaches Cassandra)."""
    if isinstance(value, float):
        return None if value != value else value
    if isinstance(value, dict):
        return {k: to_cql(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_cql(v) for v in value]
    return value


def write_timestamp() -> int:
    """Microseconds since the epoch: the write time of this load."""
    return int(time.time() * 1_000_000)


def _serializer(cql_type, protocol_version: int) -> Callable[[Any], bytes | None]:
    """Value → bytes for one bind marker, as ``cql_type.serialize`` does, with ``to_cql``
    applied where it can matter (floating point: NaN → null; collections: nested NaN) and
    the bytes of repeated values remembered where equal values always serialize alike (text,
    date, timestamp; not decimals: 1.0 == 1.00)."""
    from cassandra import cqltypes, marshal

    packs = {cqltypes.LongType: marshal.int64_pack, cqltypes.Int32Type: marshal.int32_pack,
             cqltypes.ShortType: marshal.int16_pack, cqltypes.ByteType: marshal.int8_pack,
             cqltypes.BooleanType: marshal.int8_pack}
    if cql_type in packs:  # the driver's own serialize of these is exactly this pack
        return packs[cql_type]
    if cql_type in (cqltypes.DoubleType, cqltypes.FloatType):
        pack = marshal.double_pack if cql_type is cqltypes.DoubleType else marshal.float_pack
        return lambda value: None if value != value else pack(value)
    serialize = cql_type.serialize
    if getattr(cql_type, "subtypes", None):  # collections, tuples, UDTs
        return lambda value: serialize(to_cql(value), protocol_version)
    if not (isinstance(cql_type, type) and issubclass(
            cql_type, (cqltypes.UTF8Type, cqltypes.AsciiType, cqltypes.SimpleDateType, cqltypes.DateType))):
        return lambda value: serialize(value, protocol_version)
    memo: dict = {}

    def remembered(value):
        try:
            return memo[value]
        except KeyError:
            data = serialize(value, protocol_version)
            if len(memo) < MEMO_SIZE:
                memo[value] = data
            return data

    return remembered


class _Encoder:
    """Parameter tuples → serialized values for one prepared statement (what ``bind`` does,
    without its per-value overhead); the routing key bytes identify the CQL partition."""

    def __init__(self, statement):
        meta = statement.column_metadata
        self.statement = statement
        self.names = [m.name for m in meta]
        self.serializers = [_serializer(m.type, statement.protocol_version) for m in meta]
        self.routing = tuple(statement.routing_key_indexes or ())
        # Column encryption rewrites values: leave those statements to the driver's bind.
        self.plain = not statement.column_encryption_policy

    def encode(self, params) -> list:
        if not self.plain or len(params) != len(self.serializers):
            try:
                return list(self.statement.bind([to_cql(v) for v in params]).values)
            except (TypeError, ValueError) as exc:
                raise _Unbindable(str(exc)) from None
        try:
            return [None if value is None else serialize(value) for serialize, value in zip(self.serializers, params)]
        except Exception:  # find the column for the message
            for name, serialize, value in zip(self.names, self.serializers, params):
                try:
                    None if value is None else serialize(value)
                except Exception as exc:
                    raise _Unbindable(f'column "{name}": {type(value).__name__} value {value!r}: {exc}') from None
            raise

    def key(self, values: list):
        """The partition of a row (None values included: the server rejects them, per batch)."""
        routing = self.routing
        return values[routing[0]] if len(routing) == 1 else tuple(values[i] for i in routing)

    def bound(self, values: list):
        from cassandra.query import BoundStatement

        bound = BoundStatement(self.statement)
        bound.values = values
        return bound


class _InFlight:
    """At most ``concurrency`` requests in flight; remembers the failures for one clear error."""

    def __init__(self, session, concurrency: int):
        self.session = session
        self.slots = threading.BoundedSemaphore(concurrency)
        self.lock = threading.Condition()
        self.pending = 0
        self.requests = 0
        self.failures: list[tuple[int, BaseException, Any]] = []  # (rows, error, coordinator)

    def submit(self, statement, rows: int) -> None:
        self.slots.acquire()
        with self.lock:
            self.pending += 1
            self.requests += 1
        try:
            future = self.session.execute_async(statement)
        except Exception as exc:  # refused before it left (e.g. no connection): a failure like any other
            self._failed(exc, None, rows)
            return
        future.add_callbacks(self._done, self._failed, errback_args=(future, rows))

    def _done(self, _result) -> None:
        self._release()

    def _failed(self, exc: BaseException, future, rows: int) -> None:
        with self.lock:
            self.failures.append((rows, exc, getattr(future, "coordinator_host", None)))
        self._release()

    def _release(self) -> None:
        with self.lock:
            self.pending -= 1
            if not self.pending:
                self.lock.notify_all()
        self.slots.release()

    def wait(self) -> None:
        with self.lock:
            while self.pending:
                self.lock.wait()


def _batches(encoder: _Encoder, params: Iterable[Sequence], counter: list[int]):
    """(statement, rows) to send: one partition's rows per unlogged batch, at most
    MAX_BATCH_ROWS rows and MAX_BATCH_BYTES estimated bytes; a lone row is sent as it is.
    ``counter[0]`` counts the parameter tuples read."""
    from cassandra.query import BatchStatement, BatchType

    def send(group: list):
        if len(group) == 1:
            statement = encoder.bound(group[0])
        else:
            statement = BatchStatement(BatchType.UNLOGGED)
            for values in group:
                statement.add(encoder.bound(values))  # the first one sets the routing key
        statement.is_idempotent = True  # fixed USING TIMESTAMP: replaying changes nothing
        return statement, len(group)

    groups: dict[Any, list] = {}
    sizes: dict[Any, int] = {}
    buffered = 0
    for params_row in params:
        values = encoder.encode(params_row)
        counter[0] += 1
        size = CELL_OVERHEAD_BYTES * len(values) + sum(map(len, filter(None, values)))
        key = encoder.key(values)
        group = groups.get(key)
        if group is not None and (len(group) >= MAX_BATCH_ROWS or sizes[key] + size > MAX_BATCH_BYTES):
            yield send(group)
            buffered -= len(group)
            group = None
        if group is None:
            group = groups[key] = []
            sizes[key] = 0
        group.append(values)
        sizes[key] += size
        buffered += 1
        if buffered >= MAX_BUFFERED_ROWS:
            for pending in groups.values():
                yield send(pending)
            groups.clear()
            sizes.clear()
            buffered = 0
    for pending in groups.values():
        yield send(pending)


def execute_all(session, statement, params: Iterable[Sequence], target: str, concurrency: int = CONCURRENCY) -> int:
    """Run the prepared ``statement`` for every parameter tuple, grouped by partition into
    single-partition unlogged batches run concurrently; returns the number of tuples run.
    Raises ServingLoadError (after the requests in flight end) on any failure."""
    statement.is_idempotent = True
    encoder = _Encoder(statement)
    meta = statement.column_metadata
    table = f"{meta[0].keyspace_name}.{meta[0].table_name}" if meta else "?"
    verb = statement.query_string.split(None, 1)[0].upper()
    inflight = _InFlight(session, concurrency)
    counter = [0]
    try:
        for batch, rows in _batches(encoder, params, counter):
            if inflight.failures:
                break  # the load fails: stop sending, report what failed
            inflight.submit(batch, rows)
    except _Unbindable as exc:
        inflight.wait()
        raise ServingLoadError(f"{verb} {table} on Cassandra at {target}: row {counter[0] + 1:,} cannot be written "
                               f"({exc}). Fix the value or the column type, then retry the load.") from None
    finally:
        inflight.wait()
    if inflight.failures:
        failed_rows = sum(rows for rows, _exc, _host in inflight.failures)
        hosts = sorted({str(host) for _rows, _exc, host in inflight.failures if host is not None})
        sample = "; ".join(f"{type(err).__name__}: {err}" for _rows, err, _host in inflight.failures[:3])
        raise ServingLoadError(
            f"{len(inflight.failures)} of {inflight.requests} requests ({failed_rows:,} of {counter[0]:,} rows read) "
            f"failed on Cassandra at {target} ({verb} {table}"
            f"{', coordinator ' + ', '.join(hosts) if hosts else ''}): {sample}. The load is idempotent: retry it.",
            transient=True)
    return counter[0]


def load_window(session, table: str, columns: list[str], rows: Iterable[Sequence], delete_cql: str | None,
                delete_params: Iterable[tuple], target: str, timestamp: int | None = None,
                later_deletes: Callable[[], Iterable[tuple]] | None = None) -> LoadResult:
    """Replace a window of ``table``: range deletes at T-1, then upserts at T.

    ``delete_cql`` is ``DELETE FROM t USING TIMESTAMP ? WHERE …`` (the timestamp is its first
    bind; ``delete_params`` gives the others), one execution per affected partition.
    ``later_deletes``, called once the rows are written, gives the same for partitions only
    known from the rows themselves (partitions Cassandra did not hold when the load began: the
    delete at T-1 cannot touch the rows at T, so its order does not matter).
    ``timestamp`` (T) defaults to now; the speed layer passes its lower band. Values go
    through ``to_cql`` where their column's type needs it.
    """
    started = time.monotonic()
    stamp = timestamp if timestamp is not None else write_timestamp()
    deleted = 0
    delete = session.prepare(delete_cql) if delete_cql else None
    if delete is not None:
        deleted = execute_all(session, delete, ((stamp - 1, *p) for p in delete_params), target)
    names = ", ".join(columns)
    marks = ", ".join("?" for _ in columns)
    insert = session.prepare(f"INSERT INTO {table} ({names}) VALUES ({marks}) USING TIMESTAMP ?")
    written = execute_all(session, insert, ((*row, stamp) for row in rows), target)
    if delete is not None and later_deletes is not None:
        deleted += execute_all(session, delete, ((stamp - 1, *p) for p in later_deletes()), target)
    return LoadResult(table, written, deleted, time.monotonic() - started)
