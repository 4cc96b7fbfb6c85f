"""The idempotent window load against the real Cassandra node."""

from datetime import date

import pytest

from cloud_analytics.serving.loader import ServingLoadError, load_window

pytestmark = pytest.mark.cassandra

DELETE = "DELETE FROM load_probe USING TIMESTAMP ? WHERE org_id = ? AND day >= ? AND day <= ?"


def _load(session, rows, orgs=("org_1", "org_2")):
    window = (date(2025, 7, 1), date(2025, 7, 31))
    return load_window(session, "load_probe", ["org_id", "day", "cost", "methods"], rows, DELETE,
                       [(org, *window) for org in orgs], target="test")


def _all(session):
    return sorted((r.org_id, r.day.date() if hasattr(r.day, "date") else r.day, r.cost, set(r.methods or ()))
                  for r in session.execute("SELECT * FROM load_probe"))


def test_reload_replaces_the_window_exactly(cassandra):
    with cassandra.session() as session:
        session.execute("DROP TABLE IF EXISTS load_probe")
        session.execute("CREATE TABLE load_probe (org_id text, day date, cost decimal, methods set<text>, "
                        "PRIMARY KEY ((org_id), day)) WITH CLUSTERING ORDER BY (day DESC)")
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
        from decimal import Decimal

        assert _all(session) == [("org_1", date(2025, 7, 1), Decimal(5), {"zscore", "percentile"}),
                                 ("org_1", date(2025, 8, 1), Decimal(9), set())]


def test_a_failed_row_fails_the_load_loudly(cassandra):
    with cassandra.session() as session:
        with pytest.raises(ServingLoadError, match="failed on Cassandra at test"):
            # An unset partition key is rejected by the server for that row.
            load_window(session, "load_probe", ["org_id", "day", "cost"], [(None, date(2025, 7, 1), 1)],
                        None, [], target="test")
