"""The Spark service for real: a Spark Connect server started on a free port with a home of its
own, a session connected to it that reads and writes Delta, and the clear errors around it."""

import json
import os
import socket
import subprocess
import sys
from dataclasses import replace

import pytest

from cloud_analytics.resources.spark import get_spark
from cloud_analytics.resources.spark_service import SparkService, SparkServiceError

# The client runs in a process of its own, as a CLI command or a run would: PySpark holds one
# kind of session per process (Connect mode is a process-wide switch), and the suite's
# in-process session may already live in this one.
CLIENT = """
import json, sys
from pathlib import Path
from cloud_analytics.config import load_settings
from cloud_analytics.lib.sessions import is_connect
from cloud_analytics.resources.spark import get_spark

spark = get_spark(load_settings(dotenv=Path("/nonexistent")))
path = sys.argv[1]
spark.createDataFrame([(1, "a"), (2, "b")], "id int, name string").write.format("delta").save(path)
rows = sorted([r.id, r.name] for r in spark.read.format("delta").load(path).collect())
print(json.dumps({
    "connect": is_connect(spark),
    "sum": spark.range(10).selectExpr("sum(id) AS s").first().s,
    "rows": rows,
    "operations": [r.operation for r in spark.sql(f"DESCRIBE HISTORY delta.`{path}`").collect()],
    "time_zone": spark.conf.get("spark.sql.session.timeZone"),
}))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cloud_analytics.cli", *args], capture_output=True, text=True,
                          env=env, timeout=300)


@pytest.fixture(scope="module")
def service_settings(settings, tmp_path_factory):
    """Settings that require the service, on a free port and a temporary home."""
    return replace(settings, spark_service="require", spark_service_port=_free_port(),
                   spark_service_home=tmp_path_factory.mktemp("spark_service"), spark_driver_memory="1g")


@pytest.fixture(scope="module")
def service_env(service_settings) -> dict[str, str]:
    return {**os.environ, "CLOUD_ANALYTICS_SPARK_SERVICE": "require",
            "CLOUD_ANALYTICS_SPARK_SERVICE_PORT": str(service_settings.spark_service_port),
            "CLOUD_ANALYTICS_SPARK_SERVICE_HOME": str(service_settings.spark_service_home),
            "CLOUD_ANALYTICS_SPARK_DRIVER_MEMORY": service_settings.spark_driver_memory}


@pytest.fixture(scope="module")
def service(service_settings):
    """The Spark service, started once for the module (its JVM takes ~20 s)."""
    service = SparkService.from_settings(service_settings)
    service.start(timeout_s=service_settings.spark_service_start_timeout_s, log=lambda _m: None)
    yield service
    service.stop(log=lambda _m: None)


@pytest.mark.spark
def test_started_service_reports_running_and_start_again_is_a_noop(service, service_env):
    pid = service.pid()
    assert service.is_running() and pid is not None
    assert service.status() == f"running (pid {pid}) on 127.0.0.1:{service.port}, home {service.home}"
    messages = []
    assert service.start(log=messages.append) is False
    assert "already running" in messages[0] and service.pid() == pid
    status = _cli(service_env, "spark", "status")
    assert status.returncode == 0 and f"pid {pid}" in status.stdout, status.stderr


@pytest.mark.spark
def test_require_mode_connects_and_delta_runs_on_the_server(service, service_env, tmp_path):
    table = tmp_path / "table"
    client = subprocess.run([sys.executable, "-c", CLIENT, str(table)], capture_output=True, text=True,
                            env=service_env, cwd=tmp_path, timeout=300)
    assert client.returncode == 0, client.stderr[-3000:]
    result = json.loads(client.stdout.strip().splitlines()[-1])
    assert result["connect"] is True
    assert result["sum"] == 45
    assert result["rows"] == [[1, "a"], [2, "b"]]
    assert result["operations"] == ["WRITE"]  # a Delta table, written by the server's Delta
    assert result["time_zone"] == "UTC"
    assert (table / "_delta_log").is_dir()


@pytest.mark.spark
def test_after_stop_require_mode_fails_clearly(service, service_settings, service_env):
    """Runs last in this module: it stops the service."""
    assert service.stop(log=lambda _m: None) is True
    assert not service.is_running()
    with pytest.raises(SparkServiceError, match="not running.*cloud-analytics spark start"):
        get_spark(service_settings)
    status = _cli(service_env, "spark", "status")
    assert status.returncode == 3 and "stopped" in status.stdout
    stop = _cli(service_env, "spark", "stop")
    assert stop.returncode == 0 and "nothing to stop" in stop.stdout


@pytest.mark.fast
def test_start_on_a_taken_port_names_the_port_and_the_setting(tmp_path):
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        service = SparkService(home=tmp_path / "svc", port=port)
        with pytest.raises(SparkServiceError, match=f"127.0.0.1:{port} is already taken.*CLOUD_ANALYTICS_SPARK_SERVICE_PORT"):
            service.start(timeout_s=30, log=lambda _m: None)
    assert service.pid() is None
