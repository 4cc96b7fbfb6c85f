"""The local Cassandra node: a real Cassandra 5.0 process from the Maven jars."""

import os
import subprocess
import sys
import uuid

import pytest

from cloud_analytics.serving.local_node import CassandraNodeError, LocalNode

pytestmark = pytest.mark.cassandra


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "cloud_analytics.cli", *args],
                          capture_output=True, text=True, env=dict(os.environ), timeout=300)


def test_write_and_read_with_the_python_driver(cassandra):
    key = uuid.uuid4()
    with cassandra.session() as session:
        session.execute("CREATE TABLE IF NOT EXISTS smoke (id uuid PRIMARY KEY, note text, tags set<text>)")
        insert = session.prepare("INSERT INTO smoke (id, note, tags) VALUES (?, ?, ?)")
        session.execute(insert, (key, "hello", {"a", "b"}))
        row = session.execute(session.prepare("SELECT note, tags FROM smoke WHERE id = ?"), (key,)).one()
        release = session.execute("SELECT release_version FROM system.local").one().release_version
    assert row.note == "hello" and set(row.tags) == {"a", "b"}
    assert release.startswith("5.0.")


def test_cli_start_when_running_is_a_noop_and_status_reports(cassandra_node):
    pid = cassandra_node.pid()
    result = _cli("cassandra", "start")
    assert result.returncode == 0, result.stderr
    assert "already running" in result.stdout
    assert cassandra_node.pid() == pid
    status = _cli("cassandra", "status")
    assert status.returncode == 0 and f"pid {pid}" in status.stdout


def test_second_node_on_a_taken_port_fails_clearly(cassandra_node, tmp_path):
    other = LocalNode(home=tmp_path / "other", jars_dir=cassandra_node.jars_dir,
                      port=cassandra_node.port, storage_port=cassandra_node.storage_port + 1)
    with pytest.raises(CassandraNodeError, match=f"{cassandra_node.port} is already taken"):
        other.start(timeout_s=30, log=lambda _m: None)


def test_missing_jars_fail_clearly(tmp_path):
    node = LocalNode(home=tmp_path / "n", jars_dir=tmp_path / "no-jars", port=19999)
    with pytest.raises(CassandraNodeError, match="make setup"):
        node.start(timeout_s=5, log=lambda _m: None)


def test_stop_then_start_again(cassandra_node, cassandra):
    """Runs last in this module: the node is left running for the rest of the suite."""
    assert _cli("cassandra", "stop").returncode == 0
    assert not cassandra_node.is_running()
    assert _cli("cassandra", "status").returncode == 3
    result = _cli("cassandra", "start")
    assert result.returncode == 0, result.stderr + result.stdout
    assert cassandra_node.is_running()
    with cassandra.session() as session:  # data written before the restart survived it
        assert session.execute("SELECT count(*) FROM smoke").one()[0] >= 1
