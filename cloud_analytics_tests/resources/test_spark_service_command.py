"""The Spark service's command line and environment, and how a session picks it: no JVM."""

import sys
from dataclasses import replace
from pathlib import Path

import pytest

from cloud_analytics.lib.sessions import is_connect
from cloud_analytics.resources.spark import SparkOptions, get_spark, service_url
from cloud_analytics.resources.spark_service import SERVER_CLASS, SparkService, SparkServiceError, pyspark_home

pytestmark = pytest.mark.fast


def _confs(cmd: list[str]) -> dict[str, str]:
    pairs = [cmd[i + 1] for i, arg in enumerate(cmd) if arg == "--conf"]
    return dict(pair.split("=", 1) for pair in pairs)


def _flag(cmd: list[str], name: str) -> str:
    return cmd[cmd.index(name) + 1]


def test_server_is_the_pinned_pysparks_spark_submit_with_delta_and_the_session_confs(settings, tmp_path):
    service = SparkService.from_settings(replace(settings, spark_service_home=tmp_path, spark_service_port=15123))
    cmd = service.command()
    assert cmd[0] == str(pyspark_home() / "bin" / "spark-submit") and Path(cmd[0]).is_file()
    assert _flag(cmd, "--class") == SERVER_CLASS and cmd[-1] == "spark-internal"
    assert _flag(cmd, "--master") == "local[*]" and _flag(cmd, "--driver-memory") == settings.spark_driver_memory
    assert any(Path(jar).name.startswith("delta-spark") for jar in _flag(cmd, "--jars").split(","))
    confs = _confs(cmd)
    # Loopback only, on the configured port.
    assert confs["spark.connect.grpc.binding.address"] == "127.0.0.1"
    assert confs["spark.connect.grpc.binding.port"] == "15123"
    assert confs["spark.driver.host"] == confs["spark.driver.bindAddress"] == "127.0.0.1"
    # The in-process session's confs, but those given as flags.
    assert confs["spark.sql.extensions"] == "io.delta.sql.DeltaSparkSessionExtension"
    assert confs["spark.sql.session.timeZone"] == "UTC"
    assert confs["spark.sql.shuffle.partitions"] == str(settings.spark_shuffle_partitions)
    assert not {"spark.master", "spark.jars", "spark.app.name", "spark.driver.memory"} & set(confs)
    assert service.url == "sc://127.0.0.1:15123"


def test_server_environment_runs_python_workers_with_this_interpreter(tmp_path):
    env = SparkService(home=tmp_path).environment("/usr/lib/jvm/java-17-openjdk-amd64/bin/java")
    assert env["PYSPARK_PYTHON"] == sys.executable
    assert env["SPARK_HOME"] == str(pyspark_home()) and env["SPARK_LOCAL_IP"] == "127.0.0.1"
    assert env["JAVA_HOME"] == str(Path("/usr/lib/jvm/java-17-openjdk-amd64").resolve())
    assert env["SPARK_LOG_DIR"] == str(tmp_path / "logs") and env["SPARK_PID_DIR"] == str(tmp_path)


def test_missing_jars_and_a_connect_master_fail_clearly(tmp_path):
    with pytest.raises(SparkServiceError, match="make setup"):
        SparkService(home=tmp_path, options=SparkOptions(jars_dir=tmp_path / "no-jars")).command()
    with pytest.raises(SparkServiceError, match="already a Spark Connect server"):
        SparkService(home=tmp_path, options=SparkOptions(master="sc://127.0.0.1:15002")).command()


def test_session_choice_without_a_running_service(settings, tmp_path):
    options = replace(SparkOptions.from_settings(settings), service_home=tmp_path, service_port=1)
    assert service_url(replace(options, service="off")) is None
    assert service_url(replace(options, service="auto")) is None
    with pytest.raises(SparkServiceError, match=r"not running.*cloud-analytics spark start.*CLOUD_ANALYTICS_SPARK_SERVICE=off"):
        get_spark(replace(options, service="require"))


def test_is_connect_is_false_for_anything_but_a_connect_session():
    assert not is_connect(object()) and not is_connect(None)
