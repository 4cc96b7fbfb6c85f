"""Session-wide fixtures: one test environment, one SparkSession, one Cassandra node.

The suite never touches the developer's lake or keyspace: it points every
``CLOUD_ANALYTICS_*`` variable at a temporary lake and a test node on its own ports, so
``make test`` can run while a ``make run`` node is up on 9042.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cloud_analytics.config import REPO_ROOT, Settings, load_settings

TEST_CQL_PORT = int(os.environ.get("CLOUD_ANALYTICS_TEST_CQL_PORT", "19042"))
TEST_STORAGE_PORT = int(os.environ.get("CLOUD_ANALYTICS_TEST_STORAGE_PORT", "17000"))


@pytest.fixture(scope="session", autouse=True)
def test_env(tmp_path_factory) -> dict[str, str]:
    """The environment of the test session (also exported, for code that reads os.environ)."""
    root = tmp_path_factory.mktemp("cloud_analytics")
    env = {
        "CLOUD_ANALYTICS_LAKE": str(root / "datalake"),
        "CLOUD_ANALYTICS_CASSANDRA_HOSTS": "127.0.0.1",
        "CLOUD_ANALYTICS_CASSANDRA_PORT": str(TEST_CQL_PORT),
        "CLOUD_ANALYTICS_CASSANDRA_STORAGE_PORT": str(TEST_STORAGE_PORT),
        "CLOUD_ANALYTICS_CASSANDRA_KEYSPACE": "cloud_analytics_test",
        "CLOUD_ANALYTICS_CASSANDRA_HOME": str(root / "cassandra"),
        "CLOUD_ANALYTICS_SPARK_SHUFFLE_PARTITIONS": "2",
        "CLOUD_ANALYTICS_SPARK_DRIVER_MEMORY": "2g",
        # A developer's running Spark service never changes what the suite runs on.
        "CLOUD_ANALYTICS_SPARK_SERVICE": "off",
        "DAGSTER_HOME": str(root / "dagster_home"),
        "CLOUD_ANALYTICS_PII_PEPPER": "test-pepper-not-a-secret-0123456789",
        # A load that finds Cassandra down fails at once (the outage tests expect it); the retries
        # are tested where they are wanted (serving/test_serving_assets.py, the chaos soak).
        "CLOUD_ANALYTICS_CASSANDRA_RETRIES": "0",
    }
    Path(env["DAGSTER_HOME"]).mkdir()
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    yield env
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def settings(test_env) -> Settings:
    return load_settings(dotenv=REPO_ROOT / ".env.does-not-exist")


# `make test` runs the tests marked `both_modes` a second time, in a process of their own (PySpark
# holds one kind of session per process), with this set: their `spark` is then a client of a
# Spark service the session starts, where foreachBatch functions run in the server's workers.
THROUGH_SERVICE = os.environ.get("CLOUD_ANALYTICS_TEST_SPARK_SERVICE") == "1"


@pytest.fixture(scope="session")
def spark(settings, tmp_path_factory):
    """The one SparkSession of the test session."""
    from cloud_analytics.resources.spark import get_spark

    if not THROUGH_SERVICE:
        session = get_spark(settings)
        yield session
        session.stop()
        return
    import socket
    from dataclasses import replace

    from cloud_analytics.resources.spark_service import SparkService

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    through = replace(settings, spark_service="require", spark_service_port=port,
                      spark_service_home=tmp_path_factory.mktemp("spark_service"))
    service = SparkService.from_settings(through)
    service.start(timeout_s=through.spark_service_start_timeout_s)
    try:
        session = get_spark(through)
        yield session
        # Before the server goes: a client left open retries its release for minutes at exit.
        session.stop()
    finally:
        service.stop()


# The markers a test gets from the fixtures it needs (``item.fixturenames`` holds every fixture it
# requests, directly or through other fixtures): `-m "not pipeline"`, `-m "not cassandra"` and
# so on select by what a test really starts, and the first tier (`fast`) may need none of them.
# The pipeline fixtures build the session lake (bronze_run .. serving_run) or the fault lake
# (faults/conftest.py). A fixture fetched with ``request.getfixturevalue`` is not seen here.
FIXTURE_MARKERS = {
    "spark": "spark",
    "cassandra_node": "cassandra", "cassandra": "cassandra",
    "bronze_run": "pipeline", "silver_run": "pipeline", "gold_run": "pipeline", "serving_run": "pipeline",
    "faults": "pipeline", "fault_lake": "pipeline",
    "browser": "browser",
    "cluster": "cluster",
}


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(config, items):
    slow_fast = []
    for item in items:
        needs = {FIXTURE_MARKERS[name] for name in item.fixturenames if name in FIXTURE_MARKERS}
        if needs and item.get_closest_marker("fast"):
            heavy = sorted(name for name in item.fixturenames if name in FIXTURE_MARKERS)
            slow_fast.append(f"{item.nodeid} (needs {', '.join(heavy)})")
        for marker in sorted(needs):
            if not item.get_closest_marker(marker):
                item.add_marker(marker)
    # A test that changes the session lake (a second wave landed into it) runs after every other,
    # whatever the file order: the others assert the first wave's exact figures.
    items.sort(key=lambda item: bool(item.get_closest_marker("mutates_session_lake")))
    if slow_fast:
        raise pytest.UsageError("tests marked fast (the first tier: no Spark, no Cassandra, no pipeline, no browser) "
                                "request heavy fixtures: " + "; ".join(slow_fast))
    if THROUGH_SERVICE:  # only what differs through Spark Connect runs twice
        kept = [item for item in items if item.get_closest_marker("both_modes")]
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept


@pytest.fixture(scope="session")
def cassandra_node(settings):
    """A real Cassandra 5.0 node from the Maven jars, started once per test session."""
    from cloud_analytics.serving.local_node import LocalNode

    node = LocalNode.from_settings(settings)
    node.start(timeout_s=settings.cassandra_start_timeout_s)
    yield node
    node.stop()


@pytest.fixture(scope="session")
def cassandra(settings, cassandra_node):
    """The Cassandra resource pointed at the test node."""
    from cloud_analytics.resources.cassandra import CassandraResource

    return CassandraResource.from_settings(settings)


@pytest.fixture(scope="session")
def generated_landing(settings):
    """The default dataset (scale 1, seed 42) in the test lake's landing folder."""
    from cloud_analytics.landing.generator import generate

    return generate(settings.landing, scale=1, seed=42)


@pytest.fixture(scope="session")
def dagster_instance():
    from dagster import DagsterInstance

    with DagsterInstance.ephemeral() as instance:
        yield instance


@pytest.fixture(scope="session")
def bronze_run(settings, spark, generated_landing, dagster_instance, cassandra_node):
    """Bronze materialized once with Dagster on the generated data: the runner's steps (the
    stream step runs the speed layer too, which writes to Cassandra)."""
    from cloud_analytics.pipeline import materialize_all

    return materialize_all(settings, dagster_instance, log=lambda _m: None, layers=("bronze",))


@pytest.fixture(scope="session")
def silver_run(bronze_run, settings, dagster_instance):
    """Silver materialized once with Dagster, after bronze."""
    from cloud_analytics.pipeline import materialize_all

    return materialize_all(settings, dagster_instance, log=lambda _m: None, layers=("silver",))


@pytest.fixture(scope="session")
def gold_run(silver_run, settings, dagster_instance):
    """Gold materialized once with Dagster, after silver."""
    from cloud_analytics.pipeline import materialize_all

    return materialize_all(settings, dagster_instance, log=lambda _m: None, layers=("gold",))


@pytest.fixture(scope="session")
def serving_run(gold_run, settings, dagster_instance, cassandra_node):
    """The serving tables loaded once into the test Cassandra node, after gold."""
    from cloud_analytics.pipeline import materialize_all

    return materialize_all(settings, dagster_instance, log=lambda _m: None, layers=("serving",))
