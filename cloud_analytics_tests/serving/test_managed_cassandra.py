"""Serving on a managed-style Cassandra (issue 17): a role that may not create keyspaces or roles
and holds rights on the tables of one pre-created keyspace only, as on AstraDB or most managed
clusters.

This module starts a node of its own (PasswordAuthenticator and CassandraAuthorizer, free ports
on 127.0.0.1, a folder under the test's tmp; SIGKILLed at the end, its data is thrown away). Its
default superuser plays the administrator: it creates the keyspace (with an older
``serving_state`` in it, so the schema's ALTER runs too) and the roles. The platform then runs
as ``analytics`` (CREATE, ALTER, SELECT and MODIFY on that keyspace) with
``CLOUD_ANALYTICS_CASSANDRA_CREATE_KEYSPACE=false``: the schema is created, every serving table is
loaded with the functions the serving assets and the speed layer use, in the assets' order, and
every query of ``serving/queries.py`` answers. No Spark: the rows are built here. A second role,
``loader`` (SELECT and MODIFY only), shows what suffices once the schema is current.
"""

from __future__ import annotations

import socket
import time
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from cassandra import Unauthorized

from cloud_analytics.config import REPO_ROOT, load_settings
from cloud_analytics.resources.cassandra import (CassandraResource, CassandraSetupError, CassandraUnavailableError,
                                                 keyspace_exists)
from cloud_analytics.serving import queries
from cloud_analytics.serving import window as cql_window
from cloud_analytics.serving.loader import load_window
from cloud_analytics.serving.local_node import LocalNode
from cloud_analytics.serving.schema import SchemaPermissionError, create_schema
from cloud_analytics.serving.specs import GOLD_FED, LIVE_USAGE_BY_ORG, ORG_DAILY_USAGE, USAGE_ALERTS_BY_ORG
from cloud_analytics.serving.state import update_state

pytestmark = pytest.mark.cassandra

KEYSPACE = "managed_serving"
ROLE, PASSWORD = "analytics", "analytics-test-password"  # CREATE, ALTER, SELECT, MODIFY on KEYSPACE
LOADER, LOADER_PASSWORD = "loader", "loader-test-password"  # SELECT, MODIFY on KEYSPACE
ORG = "org_managed"
DAY = date(2025, 7, 15)
# serving_state as a release before speed_max_date created it: the role's schema run adds the column.
OLD_SERVING_STATE = (f"CREATE TABLE {KEYSPACE}.serving_state (table_name text PRIMARY KEY, max_date date, "
                     "batch_covered_until date, loaded_at timestamp)")


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass(frozen=True)
class ManagedNode:
    port: int

    def resource(self, username: str = "", password: str = "", keyspace: str = KEYSPACE,
                 create_keyspace: bool | None = None) -> CassandraResource:
        return CassandraResource(hosts=["127.0.0.1"], port=self.port, keyspace=keyspace, username=username,
                                 password=password, create_keyspace=create_keyspace, connect_timeout_s=5)

    @property
    def admin(self) -> CassandraResource:
        return self.resource("cassandra", "cassandra")

    def env(self, **extra: str) -> dict[str, str]:
        """The platform's settings as the analytics role, CREATE_KEYSPACE false."""
        return {"CLOUD_ANALYTICS_CASSANDRA_HOSTS": "127.0.0.1", "CLOUD_ANALYTICS_CASSANDRA_PORT": str(self.port),
                "CLOUD_ANALYTICS_CASSANDRA_KEYSPACE": KEYSPACE, "CLOUD_ANALYTICS_CASSANDRA_USERNAME": ROLE,
                "CLOUD_ANALYTICS_CASSANDRA_PASSWORD": PASSWORD, "CLOUD_ANALYTICS_CASSANDRA_CREATE_KEYSPACE": "false",
                **extra}


@pytest.fixture(scope="module")
def managed(settings, tmp_path_factory):
    port, storage_port = _free_ports(2)
    node = LocalNode(home=tmp_path_factory.mktemp("managed_cassandra"), jars_dir=settings.jars_dir / "cassandra",
                     port=port, storage_port=storage_port, heap="512m", cluster_name="cloud_analytics_managed_test",
                     password_auth=True, authorization=True, java_home=settings.cassandra_java_home)
    node.start(timeout_s=settings.cassandra_start_timeout_s, log=lambda _m: None)
    try:
        managed = ManagedNode(port)
        deadline = time.monotonic() + 60
        while True:  # the default superuser appears just after start-up
            try:
                with managed.admin.session(use_keyspace=False) as admin:
                    break
            except CassandraUnavailableError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        with managed.admin.session(use_keyspace=False) as admin:
            admin.execute(f"CREATE KEYSPACE {KEYSPACE} WITH replication = "
                          "{'class': 'SimpleStrategy', 'replication_factor': 1}")
            admin.execute(OLD_SERVING_STATE)
            for role, password, permissions in ((ROLE, PASSWORD, ("CREATE", "ALTER", "SELECT", "MODIFY")),
                                                (LOADER, LOADER_PASSWORD, ("SELECT", "MODIFY"))):
                admin.execute(f"CREATE ROLE {role} WITH PASSWORD = '{password}' AND LOGIN = true")
                for permission in permissions:
                    admin.execute(f"GRANT {permission} ON KEYSPACE {KEYSPACE} TO {role}")
        yield managed
    finally:
        node.stop(timeout_s=30, kill=True, log=lambda _m: None)  # its data is thrown away


def test_the_role_may_not_create_keyspaces_or_roles(managed):
    with managed.resource(ROLE, PASSWORD).session(use_keyspace=False) as session:
        for statement in ("CREATE KEYSPACE IF NOT EXISTS elsewhere WITH replication = "
                          "{'class': 'SimpleStrategy', 'replication_factor': 1}",
                          f"DROP KEYSPACE {KEYSPACE}", "CREATE ROLE intruder WITH LOGIN = true"):
            with pytest.raises(Unauthorized):
                session.execute(statement)


def test_a_missing_keyspace_is_never_created_when_the_setting_is_false(managed):
    # Even a role that could create it (the superuser): the setting alone decides.
    with pytest.raises(CassandraSetupError, match=r"Keyspace not_there does not exist .*CASSANDRA_CREATE_KEYSPACE "
                                                  r"is false, so the platform does not create it"):
        with managed.resource("cassandra", "cassandra", keyspace="not_there", create_keyspace=False).session():
            pass
    with managed.admin.session(use_keyspace=False) as admin:
        assert not keyspace_exists(admin, "not_there")
    # With the default (true), a role that may not create keyspaces is told what to do.
    with pytest.raises(CassandraSetupError, match=r"Keyspace not_there does not exist .* role analytics may not "
                                                  r"create keyspaces.*CASSANDRA_CREATE_KEYSPACE=false"):
        with managed.resource(ROLE, PASSWORD, keyspace="not_there").session():
            pass


def test_the_cli_prints_one_line_for_a_missing_keyspace(managed, monkeypatch, tmp_path, capsys):
    from cloud_analytics.cli import main

    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    for key, value in managed.env(CLOUD_ANALYTICS_CASSANDRA_KEYSPACE="not_there").items():
        monkeypatch.setenv(key, value)
    assert main(["query", "q1", "--org", ORG]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Keyspace not_there does not exist") and err.count("\n") == 1, err
    assert "CLOUD_ANALYTICS_CASSANDRA_CREATE_KEYSPACE is false" in err and "Traceback" not in err


def test_an_existing_keyspace_needs_no_create_keyspace_right_whatever_the_setting(managed):
    with managed.resource(ROLE, PASSWORD, create_keyspace=True).session() as session:
        assert session.keyspace == KEYSPACE


def _value(name: str, cql_type: str, day: date):
    """A value of a serving column for ``ORG`` on ``day`` (identifiers the queries look for)."""
    special = {"org_id": ORG, "scope": queries.PLATFORM, "source": "batch", "service": "genai"}
    if name in special:
        return special[name]
    if name == "month":  # the yyyy-MM partition of tickets_by_day, or a month's first day
        return day.strftime("%Y-%m") if cql_type == "text" else day.replace(day=1)
    return {"date": day, "timestamp": datetime(day.year, day.month, day.day, 12), "text": f"{name} text",
            "decimal": Decimal("12.34"), "int": 3, "bigint": 3, "double": 0.5, "boolean": True,
            "map<text, double>": {"a": 1.0}, "map<text, text>": {"a": "b"}, "set<text>": {"zscore"}}[cql_type]


def _row(spec, day: date = DAY, **values) -> tuple:
    return tuple(values.get(c.name, _value(c.name, c.type, day)) for c in spec.columns)


def _load_like_the_asset(session, spec, row: tuple, target: str) -> None:
    """What a serving asset run does (serving/assets.py) with the loader functions, for one gold row."""
    whole = spec.partitions is None
    if whole:
        start = end = None
    elif spec.partitions == "billing_monthly":
        start, end = DAY.replace(day=1), DAY.replace(day=monthrange(DAY.year, DAY.month)[1])
    else:
        start = end = DAY
    columns = spec.column_names
    stream = cql_window.GoldStream(columns, spec.partition_key, spec.range_column if whole else None, 20)
    extra = cql_window.bounds(spec, start, end)
    held = cql_window.partitions(session, spec, start, end)
    result = load_window(session, spec.name, columns, stream.watch([row]), cql_window.delete_statement(spec, whole),
                         [(p, *extra) for p in held], target,
                         later_deletes=lambda: [(p, *extra) for p in stream.partitions if p not in set(held)])
    update_state(session, spec.name, DAY, DAY)
    in_cassandra = cql_window.count_window(session, spec, sorted(set(held) | set(stream.partitions), key=str),
                                           start, end)
    assert (result.rows, sum(in_cassandra.values())) == (1, 1), spec.name
    assert cql_window.sample_check(session, spec, stream.sample) == (1, []), spec.name


def test_the_serving_path_works_with_rights_on_the_keyspace_tables_only(managed):
    from cloud_analytics.speed.serving import update_speed_state, write_speed_rows

    settings = load_settings(managed.env(), dotenv=REPO_ROOT / ".env.does-not-exist")
    assert settings.cassandra_create_keyspace is False
    cassandra = CassandraResource.from_settings(settings)
    with cassandra.session() as session:
        tables = create_schema(session)
        assert session.execute("SELECT column_name FROM system_schema.columns WHERE keyspace_name = %s AND "
                               "table_name = 'serving_state' AND column_name = 'speed_max_date'", (KEYSPACE,)).one()
        assert create_schema(session) == tables  # a current schema: nothing to create or alter
        for spec in GOLD_FED:
            _load_like_the_asset(session, spec, _row(spec), cassandra.target)
        # The speed layer: provisional rows after the watermark, its state, alerts and the live view.
        later = DAY + timedelta(days=1)
        write_speed_rows(session, ORG_DAILY_USAGE.name, [_row(ORG_DAILY_USAGE, later, source="speed")],
                         cassandra.target)
        update_speed_state(session, ORG_DAILY_USAGE.name, later)
        noon = datetime(DAY.year, DAY.month, DAY.day, 12)
        load_window(session, USAGE_ALERTS_BY_ORG.name, USAGE_ALERTS_BY_ORG.column_names,
                    [_row(USAGE_ALERTS_BY_ORG)], None, [], cassandra.target)
        load_window(session, LIVE_USAGE_BY_ORG.name, LIVE_USAGE_BY_ORG.column_names,
                    [_row(LIVE_USAGE_BY_ORG, window_end=end) for end in (noon - timedelta(hours=1), noon)], None, [],
                    cassandra.target)

        q1 = queries.q1_daily_cost(session, ORG)
        assert [(r["usage_date"], r["source"], r["daily_cost_usd"]) for r in q1] == [
            (DAY, "batch", Decimal("12.34")), (later, "speed", Decimal("12.34"))]
        assert [(r["service"], r["cost_usd"], r["days"]) for r in queries.q2_top_services(session, ORG)] == [
            ("genai", Decimal("24.68"), 2)]
        for org in (ORG, None):
            assert [(r["date"], r["opened"]) for r in queries.q3_critical_tickets(session, org)] == [(DAY, 3)]
            assert [(r["month"], r["total_usd"]) for r in queries.q4_monthly_revenue(session, org)] == [
                (DAY.replace(day=1), Decimal("12.34"))]
        assert [(r["usage_date"], r["tokens"]) for r in queries.q5_genai(session, ORG)] == [(DAY, 3)]
        assert [r["anomaly_date"] for r in queries.cost_anomalies(session, ORG)] == [DAY]
        assert [r["as_of_date"] for r in queries.customer_health(session, ORG)] == [DAY]
        assert [r["alert_date"] for r in queries.usage_alerts(session, ORG)] == [DAY]
        assert [r["window_end"] for r in queries.live_usage(session, ORG, until=noon)] == [noon]
        assert [r["window_end"] for r in queries.live_usage(session, ORG)] == [noon - timedelta(hours=1)]


def test_select_and_modify_suffice_once_the_schema_is_current(managed):
    loader = managed.resource(LOADER, LOADER_PASSWORD, create_keyspace=False)
    with loader.session() as session:
        assert "org_daily_usage" in create_schema(session)
        _load_like_the_asset(session, ORG_DAILY_USAGE, _row(ORG_DAILY_USAGE, daily_cost_usd=Decimal("1.00")),
                             loader.target)
        assert [r["daily_cost_usd"] for r in queries.q1_daily_cost(session, ORG, as_of=DAY, days=1)] == [
            Decimal("1.00")]
        # Cassandra checks CREATE even for a table that exists: why create_schema reads system_schema first.
        with pytest.raises(Unauthorized):
            session.execute("CREATE TABLE IF NOT EXISTS serving_state (table_name text PRIMARY KEY)")
    with managed.admin.session() as admin:  # a table the next release adds: the loader may not create it
        admin.execute("DROP TABLE tickets_by_day")
    with pytest.raises(SchemaPermissionError, match=r"may not create or alter the serving tables in keyspace "
                                                  r"managed_serving .*GRANT <permission> ON KEYSPACE managed_serving"):
        with loader.session() as session:
            create_schema(session)
