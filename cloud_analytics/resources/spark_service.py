"""The Spark service: a long-lived Spark Connect server on 127.0.0.1 that the platform runs
itself, like its Cassandra node (``cloud-analytics spark start|stop|status``).

Without it every run (the CLI, ``make run``, ``make dev`` and the runs its sensors launch) starts
a JVM and warms it up; while it runs, their sessions connect to it instead (``get_spark``, by the
``CLOUD_ANALYTICS_SPARK_SERVICE`` mode). It is the pinned pyspark's own ``spark-submit`` running
``SparkConnectServer`` with the Delta jars of ``make setup`` and the confs of an in-process
session, so nothing is downloaded and a query gives the same result either way.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

from cloud_analytics.config import REPO_ROOT, Settings
from cloud_analytics.lib.processes import LocalProcessError, LocalServer, find_java17
from cloud_analytics.resources.spark import SparkOptions, SparkSetupError, spark_conf

SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
APP_NAME = "cloud-analytics-spark-service"
# Given to spark-submit as flags: the launcher reads them before the JVM starts.
_FLAG_CONFS = ("spark.master", "spark.jars", "spark.app.name", "spark.driver.memory")


class SparkServiceError(LocalProcessError):
    """The Spark service cannot start, stop or be connected to; the message says why."""


def pyspark_home() -> Path:
    """The installed pyspark's folder: a Spark distribution (bin/spark-submit, jars/)."""
    return Path(importlib.util.find_spec("pyspark").origin).parent


@dataclass(frozen=True)
class SparkService(LocalServer):
    """The Spark Connect server of this machine: where it listens and keeps its log and pid
    file, and the options (master, driver memory, jars, confs) of the sessions it serves."""

    label = "Spark service"
    description = "the Spark Connect server"
    protocol = "Spark Connect"
    cmdline_marker = SERVER_CLASS.encode()
    ready_marker = "Spark Connect server started at"
    port_setting = "CLOUD_ANALYTICS_SPARK_SERVICE_PORT"
    timeout_setting = "CLOUD_ANALYTICS_SPARK_SERVICE_START_TIMEOUT"
    error = SparkServiceError
    pid_name = "spark_service.pid"
    log_name = output_name = "logs/server.log"

    home: Path = REPO_ROOT / ".spark_service"
    # Loopback only: a Connect server has no authentication, and runs Python it is sent.
    address: str = "127.0.0.1"
    port: int = 15002
    options: SparkOptions = SparkOptions(jars_dir=REPO_ROOT / ".jars")

    @classmethod
    def from_settings(cls, settings: Settings) -> "SparkService":
        return cls(home=settings.spark_service_home, port=settings.spark_service_port,
                   options=SparkOptions.from_settings(settings))

    @property
    def url(self) -> str:
        return f"sc://{self.address}:{self.port}"

    # -- launch ----------------------------------------------------------------

    def command(self) -> list[str]:
        """The spark-submit command line of the server."""
        master = self.options.master
        if master.startswith("sc://"):
            raise SparkServiceError(
                f"The Spark service runs Spark itself; CLOUD_ANALYTICS_SPARK_MASTER={master} is "
                "already a Spark Connect server. Set a local[N] or spark:// master to start the service."
            )
        try:
            conf = spark_conf(self.options)
        except SparkSetupError as exc:
            raise SparkServiceError(str(exc)) from exc
        cmd = [
            str(pyspark_home() / "bin" / "spark-submit"),
            "--class", SERVER_CLASS,
            "--name", APP_NAME,
            "--master", master,
            "--driver-memory", self.options.driver_memory,
            "--jars", conf["spark.jars"],
        ]
        conf = {key: value for key, value in conf.items() if key not in _FLAG_CONFS}
        conf.update({
            "spark.connect.grpc.binding.address": self.address,
            "spark.connect.grpc.binding.port": str(self.port),
            "spark.driver.host": self.address,
            "spark.driver.bindAddress": self.address,
        })
        for key, value in conf.items():
            cmd += ["--conf", f"{key}={value}"]
        return [*cmd, "spark-internal"]

    def environment(self, java: str) -> dict[str, str]:
        """The variables the server needs on top of the starting process's environment."""
        return {
            "SPARK_HOME": str(pyspark_home()),
            "SPARK_LOCAL_IP": self.address,
            # foreachBatch functions run in the server's Python workers: they import this package.
            "PYSPARK_PYTHON": sys.executable,
            "JAVA_HOME": str(Path(java).resolve().parents[1]),
            "SPARK_LOG_DIR": str(self.home / "logs"),
            "SPARK_PID_DIR": str(self.home),
            # A lake on an object store: the AWS SDK in the driver asks no instance-metadata service.
            **({"AWS_EC2_METADATA_DISABLED": "true"} if self.options.object_store else {}),
        }

    def launch(self) -> tuple[list[str], dict[str, str]]:
        cmd = self.command()
        java = find_java17(needed_by="the Spark service (Spark 4.2)", hint="put a JDK 17's java first on the PATH",
                           error=SparkServiceError)
        return cmd, self.environment(java)
