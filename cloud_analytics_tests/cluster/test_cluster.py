"""Cluster mode end to end on real servers: the lake on SeaweedFS, Spark on the standalone
cluster (the Spark service as its driver), Cassandra with RF=3, Dagster on Postgres; then a
Spark worker killed mid-run, a Cassandra node stopped mid-load, and two writers on one Delta
table at once. Every run is the real CLI (`cloud-analytics run` ends with the audit and exits
non-zero when a conservation law fails).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from urllib.request import urlopen

import pytest

from cloud_analytics.lib.lake_files import LakeFiles

pytestmark = pytest.mark.cluster


def _master_state(world) -> dict:
    with urlopen(f"http://127.0.0.1:{world.cluster.layout.spark_master_ui_port}/json", timeout=10) as answer:
        return json.load(answer)


def _wait_for_step(proc: subprocess.Popen, log: Path, layer: str, timeout_s: float = 900) -> None:
    """Wait until the run has finished its first step of ``layer`` (more of that layer follow)."""
    done = re.compile(rf"^{layer}: .* materializations in ", re.MULTILINE)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if done.search(log.read_text(errors="replace")):
            return
        assert proc.poll() is None, f"the run ended before a {layer} step:\n{log.read_text()[-3000:]}"
        time.sleep(0.3)
    raise AssertionError(f"no {layer} step in {log} after {timeout_s:.0f} s")


def _postgres(world, sql: str) -> list[tuple]:
    import psycopg2

    env = world.env
    conn = psycopg2.connect(host=env["DAGSTER_PG_HOST"], port=env["DAGSTER_PG_PORT"], dbname=env["DAGSTER_PG_DB"],
                            user=env["DAGSTER_PG_USERNAME"], password=env["DAGSTER_PG_PASSWORD"])
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()
    finally:
        conn.close()


def _cql(world):
    from cloud_analytics.resources.cassandra import CassandraResource

    return CassandraResource.from_settings(world.settings).session()


@pytest.fixture(scope="module")
def built(cluster):
    """The whole pipeline run once on the cluster with the real CLI (audit included)."""
    return cluster.cli("run")


def test_every_server_runs_on_loopback_and_the_service_is_the_masters_application(cluster):
    states = cluster.cluster.status()
    assert all(running for _name, _line, running in states), states
    master = _master_state(cluster)
    assert [w["state"] for w in master["workers"]] == ["ALIVE", "ALIVE"]
    assert all(w["host"] == "127.0.0.1" for w in master["workers"])
    assert [app["name"] for app in master["activeapps"]] == ["cloud-analytics-spark-service"]
    # The daemon beats in Postgres: its sensor loop and the run queue are up.
    deadline = time.monotonic() + 60
    while not {"SENSOR", "QUEUED_RUN_COORDINATOR"} <= {row[0] for row in _postgres(
            cluster, "SELECT daemon_type FROM daemon_heartbeats")}:
        assert time.monotonic() < deadline, "no heartbeat of the daemon's sensor loop and run queue in Postgres"
        time.sleep(2)
    # The `cluster env` a user evaluates: what the tests run with.
    shown = subprocess.run([str(Path(sys.executable).with_name("cloud-analytics")), "cluster", "env"],
                           env=cluster.env, capture_output=True, text=True, check=True).stdout
    assert f"export CLOUD_ANALYTICS_LAKE=s3a://{cluster.cluster.layout.bucket}/lake" in shown
    assert "export CLOUD_ANALYTICS_CASSANDRA_HOSTS=127.0.0.1,127.0.0.2,127.0.0.3" in shown


def test_the_pipeline_runs_on_the_cluster_and_every_law_holds(cluster, built):
    assert "audit: all" in built.stdout and "laws hold" in built.stdout, built.stdout[-3000:]
    settings = cluster.settings
    files = LakeFiles(str(settings.lake), settings.object_store)
    assert {"usage_events", "customers_orgs", "_usage_events_ledger"} <= set(files.tables("bronze"))
    assert {"usage_events", "customers_orgs_history"} <= set(files.tables("silver"))
    assert "org_daily_usage_by_service" in files.tables("gold")
    assert files.tables("quarantine")
    assert files.is_file(f"{settings.lake}/_checkpoints/bronze_usage_events/_cloud_analytics_id")
    # The batch layer's Dagster runs are in Postgres, every one a success.
    statuses = dict(_postgres(cluster, "SELECT status, count(*) FROM runs GROUP BY status"))
    assert set(statuses) == {"SUCCESS"} and statuses["SUCCESS"] >= 4, statuses
    # Three replicas of every serving row.
    with _cql(cluster) as session:
        row = session.execute("SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = %s",
                              (settings.cassandra_keyspace,)).one()
    assert row.replication["replication_factor"] == "3"
    # The executors ran on both workers (each keeps its application's folder).
    for worker in cluster.cluster.workers:
        assert list((worker.home / "work").glob("app-*")), f"no executor ran on {worker.home}"


def test_a_spark_worker_killed_mid_run_leaves_the_run_to_the_other(cluster, built):
    log = cluster.root / "run-worker-killed.log"
    proc = cluster.popen("run", "--force", "--layer", "silver", "--layer", "gold", log=log)
    _wait_for_step(proc, log, "silver")
    victim = cluster.cluster.workers[1]
    os.killpg(victim.pid(), signal.SIGKILL)  # the worker and the executor it started
    try:
        assert proc.wait(timeout=1800) == 0, log.read_text()[-4000:]
        assert "laws hold" in log.read_text()
        states = [w["state"] for w in _master_state(cluster)["workers"]]
        assert states.count("ALIVE") == 1 and len(states) == 2, states
    finally:
        proc.kill()
        victim.start(timeout_s=240)


def test_a_cassandra_node_stopped_mid_load_quorum_holds_and_all_fails(cluster, built):
    from cassandra import ConsistencyLevel, Unavailable
    from cassandra.cluster import NoHostAvailable
    from cassandra.query import SimpleStatement

    node = cluster.cluster.cassandra_nodes[2]
    log = cluster.root / "run-node-stopped.log"
    proc = cluster.popen("run", "--force", "--layer", "serving", log=log)
    _wait_for_step(proc, log, "serving")
    node.stop(kill=True)
    try:
        assert proc.wait(timeout=1800) == 0, log.read_text()[-4000:]
        assert "laws hold" in log.read_text()
        cluster.cli("query", "platform", "--format", "json")
        read_all = SimpleStatement("SELECT * FROM platform_cost_by_day LIMIT 1", consistency_level=ConsistencyLevel.ALL)
        with _cql(cluster) as session:
            # Every coordinator refuses it: two replicas alive of the three ALL needs (the retry
            # policy asks each host in turn, so the driver reports them all).
            with pytest.raises((Unavailable, NoHostAvailable)) as refused:
                session.execute(read_all)
        assert "Cannot achieve consistency level ALL" in str(refused.value)
        assert "'alive_replicas': 2" in str(refused.value)
    finally:
        proc.kill()
        node.start(timeout_s=240)
    # Back in the ring: a read at ALL answers again once the driver sees the node up.
    deadline = time.monotonic() + 120
    with _cql(cluster) as session:
        while True:
            try:
                session.execute(read_all)
                break
            except (Unavailable, NoHostAvailable):
                assert time.monotonic() < deadline, "the restarted node never came back for reads at ALL"
                time.sleep(2)
    cluster.cli("audit")


WRITER = textwrap.dedent("""
    import sys
    from cloud_analytics.config import load_settings
    from cloud_analytics.resources.spark import get_spark

    spark = get_spark(load_settings())
    writer, path = sys.argv[1], sys.argv[2]
    for batch in range(6):
        rows = spark.range(100).selectExpr(f"'{writer}' AS writer", f"{batch} AS batch", "id")
        rows.write.format("delta").mode("append").save(path)
""")


def test_two_writers_through_the_service_lose_no_commit(cluster):
    """Two clients append to one Delta table on the object store at the same moments. S3 has no
    put-if-absent, so two drivers could both write log version N; through the one driver (the
    Spark service), Delta's S3 log store serializes them: every commit is kept."""
    path = f"{cluster.settings.lake}/scratch/two_writers"
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, name, path], env=cluster.env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for name in ("a", "b")]
    outputs = [proc.communicate(timeout=600)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outputs
    check = textwrap.dedent("""
        import json, sys
        from cloud_analytics.config import load_settings
        from cloud_analytics.resources.spark import get_spark

        spark = get_spark(load_settings())
        path = sys.argv[1]
        rows = spark.read.format("delta").load(path).groupBy("writer", "batch").count().collect()
        versions = [r[0] for r in spark.sql(f"DESCRIBE HISTORY delta.`{path}`").select("version").collect()]
        print(json.dumps({"groups": sorted([r[0], r[1], r[2]] for r in rows), "versions": sorted(versions)}))
    """)
    done = subprocess.run([sys.executable, "-c", check, path], env=cluster.env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["groups"] == [[w, b, 100] for w in ("a", "b") for b in range(6)]
    assert seen["versions"] == list(range(12))
