"""The idempotent window load against the real Cassandra node."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from cloud_analytics.serving import loader
from cloud_analytics.serving.loader import ServingLoadError, load_window

pytestmark = pytest.mark.cassandra

DELETE = "DELETE FROM load_probe USING TIMESTAMP ? WHERE org_id = ? AND day >= ? AND day <= ?"
WINDOW = (date(2025, 7, 1), date(2025, 7, 31))


def _load(session, rows, orgs=("org_1", "org_2")):
    return load_window(session, "load_probe", ["org_id", "day", "cost", "methods"], rows, DELETE,
                       [(org, *WINDOW) for org in orgs], target="test")


def _all(session):
    return sorted((r.org_id, r.day.date() if hasattr(r.day, "date") else r.day, r.cost, set(r.methods or ()))
                  for r in session.execute("SELECT * FROM load_probe"))


def _probe(session):
    session.execute("DROP TABLE IF EXISTS load_probe")
    session.execute("CREATE TABLE load_probe (org_id text, day date, cost decimal, methods set<text>, "
                    "PRIMARY KEY ((org_id), day)) WITH CLUSTERING ORDER BY (day DESC)")


class Recording:
    """The real session, recording every request the loader sends."""

    def __init__(self, session):
        self.session = session
        self.sent = []

    def __getattr__(self, name):
        return getattr(self.session, name)

    def execute_async(self, statement, *args, **kwargs):
        self.sent.append(statement)
        return self.session.execute_async(statement, *args, **kwargs)


def test_reload_replaces_the_window_exactly(cassandra):
    with cassandra.session() as session:
        _probe(session)
        outside = session.prepare("INSERT INTO load_probe (org_id, day, cost) VALUES (?, ?, ?)")
        session.execute(outside, ("org_1", date(2025, 8, 1), 9))  # outside the window: must survive
        first = [("org_1", date(2025, 7, 1), 1, {"zscore"}), ("org_1", date(2025, 7, 2), 2, None),
                 ("org_2", date(2025, 7, 1), 3, None)]
        result = _load(session, first)
        assert result.rows == 3 and result.deleted_ranges == 2
        assert len(_all(session)) == 4

        # Same rows again: identical table.
        before = _all(session)
        _load(session, first)
        assert _all(session) == before

        # Gold changed: a row gone, a value corrected. Cassandra follows exactly.
        _load(session, [("org_1", date(2025, 7, 1), 5, {"zscore", "percentile"})])
        assert _all(session) == [("org_1", date(2025, 7, 1), Decimal(5), {"zscore", "percentile"}),
                                 ("org_1", date(2025, 8, 1), Decimal(9), set())]


def test_rows_go_in_single_partition_batches_within_the_cap_and_reload_exactly(cassandra, monkeypatch):
    # A small cap, so one partition's window spans many batches and the byte estimate binds.
    monkeypatch.setattr(loader, "MAX_BATCH_ROWS", 7)
    monkeypatch.setattr(loader, "MAX_BATCH_BYTES", 600)
    days = [WINDOW[0] + timedelta(days=i) for i in range(31)]
    methods = {"zscore", "robust_z", "percentile_ratio"}
    rows = [(org, day, Decimal(f"{o}.{i:02d}"), methods if i % 3 == 0 else None)
            for o, org in enumerate(("org_1", "org_2", "org_3")) for i, day in enumerate(days)]
    with cassandra.session() as session:
        _probe(session)
        recording = Recording(session)
        result = load_window(recording, "load_probe", ["org_id", "day", "cost", "methods"], iter(rows), DELETE,
                             [(org, *WINDOW) for org in ("org_1", "org_2", "org_3")], target="test")
        assert result.rows == len(rows) and result.deleted_ranges == 3
        batches = [s for s in recording.sent if hasattr(s, "batch_type")]
        assert len(batches) >= len(rows) // 7
        for batch in batches:
            values = [v for _prepared, _id, v in batch._statements_and_parameters]
            assert 1 < len(values) <= 7
            assert len({v[0] for v in values}) == 1  # one partition: the routing key is that org
            assert batch.routing_key == values[0][0] and batch.is_idempotent
            estimate = sum(loader.CELL_OVERHEAD_BYTES * len(v) + sum(len(x) for x in v if x) for v in values)
            assert estimate <= 600
        assert sorted((o, d, c, m or set()) for o, d, c, m in rows) == _all(session)

        # A re-load with a third of the rows gone leaves exactly the rest.
        kept = rows[::3]
        _load(session, kept, orgs=("org_1", "org_2", "org_3"))
        assert sorted((o, d, c, m or set()) for o, d, c, m in kept) == _all(session)


def test_a_failed_row_fails_the_load_loudly(cassandra):
    with cassandra.session() as session:
        with pytest.raises(ServingLoadError, match="failed on Cassandra at test"):
            # An unset partition key is rejected by the server for that row.
            load_window(session, "load_probe", ["org_id", "day", "cost"], [(None, date(2025, 7, 1), 1)],
                        None, [], target="test")


def test_a_failed_batch_fails_the_load_naming_the_table(cassandra):
    with cassandra.session() as session:
        _probe(session)
        # The second row has no clustering key: the server rejects its whole batch.
        rows = [("org_1", date(2025, 7, 1), 1), ("org_1", None, 2), ("org_1", date(2025, 7, 3), 3)]
        with pytest.raises(ServingLoadError, match=r"1 of 1 requests \(3 of 3 rows read\) failed on Cassandra at "
                                                   r"test \(INSERT \w+\.load_probe") as failed:
            load_window(session, "load_probe", ["org_id", "day", "cost"], rows, None, [], target="test")
        assert "retry" in str(failed.value)
        with pytest.raises(ServingLoadError, match=r'load_probe on Cassandra at test: row 1 cannot be written '
                                                   r'\(column "cost": str value'):
            load_window(session, "load_probe", ["org_id", "day", "cost"], [("org_1", date(2025, 7, 1), "x")],
                        None, [], target="test")


def test_values_serialize_as_the_driver_binds_them(cassandra):
    """The loader's own serialization equals the driver's ``bind`` (NaN: null, as ``to_cql``)."""
    from datetime import datetime

    with cassandra.session() as session:
        session.execute("DROP TABLE IF EXISTS serialize_probe")
        session.execute("CREATE TABLE serialize_probe (k text, d date, ts timestamp, n bigint, i int, f double, "
                        "b boolean, m map<text, double>, s set<text>, c decimal, PRIMARY KEY ((k), d))")
        statement = session.prepare("INSERT INTO serialize_probe (k, d, ts, n, i, f, b, m, s, c) "
                                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) USING TIMESTAMP ?")
        row = ("é-org", date(2025, 7, 1), datetime(2025, 7, 1, 12, 30, 1, 123000), 2**40, -7, 1.5, True,
               {"a": 1.0, "b": float("nan")}, ["x", "y"], Decimal("-12.345600"), 1234)
        encoder = loader._Encoder(statement)
        assert encoder.encode(row) == statement.bind(tuple(loader.to_cql(v) for v in row)).values
        assert encoder.encode(row) == encoder.encode(row)  # remembered values give the same bytes
        assert encoder.encode((*row[:5], float("nan"), *row[6:]))[5] is None
