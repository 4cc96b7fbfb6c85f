"""A real single-node Apache Cassandra 5.0, run from the Maven jars as its own Java process.

``make setup`` resolves ``cassandra-all`` into ``<jars>/cassandra``; this module writes a
minimal cassandra.yaml and logback.xml under the node's home folder (git-ignored), starts
``CassandraDaemon`` with the JDK 17 module flags Cassandra 5.0 needs, waits until it serves
CQL, and stops it with SIGTERM. Nodes are parametrized by address and home, so tests can
run two of them on 127.0.0.1 and 127.0.0.2.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from cloud_analytics.config import Settings

READY_MARKER = "Startup complete"
FAILURE_MARKERS = ("Exception encountered during startup", "Failed to bind port", "Address already in use")

# From Cassandra 5.0's conf/jvm17-server.options: without them the JVM dies at start.
_ADD_EXPORTS = (
    "java.base/jdk.internal.misc",
    "java.management.rmi/com.sun.jmx.remote.internal.rmi",
    "java.management/com.sun.jmx.remote.security",
    "java.rmi/sun.rmi.registry",
    "java.rmi/sun.rmi.server",
    "java.sql/java.sql",
    "java.base/java.lang.ref",
    "jdk.unsupported/sun.misc",
)
_ADD_OPENS = (
    "java.base/java.lang.module",
    "java.base/jdk.internal.loader",
    "java.base/jdk.internal.ref",
    "java.base/jdk.internal.reflect",
    "java.base/jdk.internal.math",
    "java.base/jdk.internal.module",
    "java.base/jdk.internal.util.jar",
    "jdk.management/com.sun.management.internal",
    "java.base/sun.nio.ch",
    "java.base/java.io",
    "java.base/java.lang.reflect",
    "java.base/java.lang",
    "java.base/java.util",
    "java.base/java.nio",
)

_YAML = """\
cluster_name: {cluster_name}
num_tokens: 1
{initial_token}partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "{seed}"
listen_address: {address}
rpc_address: {address}
native_transport_port: {port}
storage_port: {storage_port}
start_native_transport: true
auto_bootstrap: false
authenticator: {authenticator}
authorizer: AllowAllAuthorizer
commitlog_sync: periodic
commitlog_sync_period: 10000ms
auto_snapshot: false
disk_access_mode: standard
data_file_directories:
  - {home}/data/data
commitlog_directory: {home}/data/commitlog
saved_caches_directory: {home}/data/saved_caches
hints_directory: {home}/data/hints
cdc_raw_directory: {home}/data/cdc_raw
"""

_LOGBACK = """\
<configuration scan="false">
  <appender name="FILE" class="ch.qos.logback.core.FileAppender">
    <file>{logdir}/system.log</file>
    <encoder><pattern>%-5level [%thread] %date{{ISO8601}} %F:%L - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="FILE"/></root>
  <logger name="org.apache.cassandra" level="INFO"/>
</configuration>
"""


class CassandraNodeError(RuntimeError):
    """The local node cannot start or stop; the message says why and where to look."""


@dataclass(frozen=True)
class LocalNode:
    """One local Cassandra node: where it listens and where it keeps its files."""

    home: Path
    jars_dir: Path
    address: str = "127.0.0.1"
    port: int = 9042
    storage_port: int = 7000
    heap: str = "768m"
    cluster_name: str = "cloud_analytics_local"
    seed: str = "127.0.0.1"
    initial_token: str | None = None
    password_auth: bool = False
    java_home: str = ""  # a JDK 11/17 to prefer (settings: CASSANDRA_JAVA_HOME, else JAVA_HOME)

    @classmethod
    def from_settings(cls, settings: Settings) -> "LocalNode":
        return cls(
            home=settings.cassandra_home,
            jars_dir=settings.jars_dir / "cassandra",
            address=settings.cassandra_hosts[0],
            port=settings.cassandra_port,
            storage_port=settings.cassandra_storage_port,
            heap=settings.cassandra_heap,
            password_auth=bool(settings.cassandra_username),
            java_home=settings.cassandra_java_home,
        )

    @property
    def pid_file(self) -> Path:
        return self.home / "cassandra.pid"

    @property
    def log_file(self) -> Path:
        return self.home / "logs" / "system.log"

    @property
    def endpoint(self) -> str:
        return f"{self.address}:{self.port}"

    # -- state -----------------------------------------------------------------

    def pid(self) -> int | None:
        """The pid of our node's process if it is alive, else None."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return pid
        # A zombie or a recycled pid is not our node.
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return pid
        return pid if b"CassandraDaemon" in cmdline else None

    def port_open(self) -> bool:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(1.0)
            return sock.connect_ex((self.address, self.port)) == 0

    def is_running(self) -> bool:
        return self.pid() is not None and self.port_open()

    def status(self) -> str:
        pid = self.pid()
        if pid and self.port_open():
            return f"running (pid {pid}) on {self.endpoint}, home {self.home}"
        if pid:
            return f"starting (pid {pid}), not yet serving CQL on {self.endpoint}"
        if self.port_open():
            return f"not running here, but {self.endpoint} is served by another process"
        return f"stopped ({self.endpoint} free)"

    # -- start -----------------------------------------------------------------

    def _write_config(self) -> tuple[Path, Path]:
        conf = self.home / "conf"
        for sub in ("conf", "logs", "data"):
            (self.home / sub).mkdir(parents=True, exist_ok=True)
        yaml_path = conf / "cassandra.yaml"
        yaml_path.write_text(
            _YAML.format(
                cluster_name=self.cluster_name,
                initial_token=f"initial_token: {self.initial_token}\n" if self.initial_token else "",
                seed=self.seed,
                address=self.address,
                port=self.port,
                storage_port=self.storage_port,
                authenticator="PasswordAuthenticator" if self.password_auth else "AllowAllAuthenticator",
                home=self.home,
            )
        )
        logback = conf / "logback.xml"
        logback.write_text(_LOGBACK.format(logdir=self.home / "logs"))
        return yaml_path, logback

    def command(self, java: str) -> list[str]:
        jars = sorted(glob.glob(str(self.jars_dir / "*.jar")))
        if not any(Path(j).name.startswith("cassandra-all") for j in jars):
            raise CassandraNodeError(
                f"Cassandra jars not found in {self.jars_dir}. Run `make setup` (it resolves "
                "them with mvn from jvm/pom-cassandra.xml)."
            )
        jamm = next((j for j in jars if Path(j).name.startswith("jamm-")), None)
        yaml_path, logback = self._write_config()
        cmd = [
            java,
            f"-Xms{self.heap}",
            f"-Xmx{self.heap}",
            "-XX:+UseG1GC",
            "-XX:+ExitOnOutOfMemoryError",
            "-Xss512k",
            "-Djdk.attach.allowAttachSelf=true",
            "-Dio.netty.tryReflectionSetAccessible=true",
            f"-Dcassandra.config=file://{yaml_path}",
            f"-Dcassandra.storagedir={self.home / 'data'}",
            f"-Dcassandra.logdir={self.home / 'logs'}",
            f"-Dlogback.configurationFile={logback}",
            "-Dcassandra-foreground=yes",
            "-Dcassandra.skip_wait_for_gossip_to_settle=0",
            "-Dcassandra.ring_delay_ms=1000",
            "-Dchronicle.analytics.disable=true",
        ]
        if jamm:
            cmd.append(f"-javaagent:{jamm}")
        cmd += [f"--add-exports={m}=ALL-UNNAMED" for m in _ADD_EXPORTS]
        cmd += [f"--add-opens={m}=ALL-UNNAMED" for m in _ADD_OPENS]
        cmd += ["-cp", f"{self.home / 'conf'}:{self.jars_dir}/*", "org.apache.cassandra.service.CassandraDaemon"]
        return cmd

    def start(self, timeout_s: float = 180.0, log=print) -> bool:
        """Start the node and wait until it serves CQL. Returns False if it already ran."""
        if self.is_running():
            log(f"Cassandra already running on {self.endpoint} (pid {self.pid()}): nothing to do.")
            return False
        if self.pid() is None and self.port_open():
            raise CassandraNodeError(
                f"Port {self.endpoint} is already taken by another process; stop it or set "
                "CLOUD_ANALYTICS_CASSANDRA_PORT to a free port."
            )
        java = find_java17(self.java_home)
        cmd = self.command(java)
        self.log_file.unlink(missing_ok=True)
        out = open(self.home / "logs" / "stdout.log", "ab")
        started = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, cwd=self.home)
        out.close()
        self.pid_file.write_text(str(proc.pid))
        log(f"Starting Cassandra 5.0 on {self.endpoint} (pid {proc.pid}, logs in {self.log_file.parent})")
        self._wait_ready(proc, started, timeout_s)
        log(f"Cassandra ready on {self.endpoint} after {time.monotonic() - started:.1f} s")
        return True

    def _wait_ready(self, proc: subprocess.Popen, started: float, timeout_s: float) -> None:
        while time.monotonic() - started < timeout_s:
            if proc.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                raise CassandraNodeError(
                    f"Cassandra on {self.endpoint} exited with code {proc.returncode} during "
                    f"start-up.\n{self._log_tail()}"
                )
            text = self.log_file.read_text(errors="replace") if self.log_file.exists() else ""
            for marker in FAILURE_MARKERS:
                if marker in text:
                    self.stop(log=lambda _msg: None)
                    raise CassandraNodeError(
                        f"Cassandra on {self.endpoint} failed to start ({marker}).\n{self._log_tail()}"
                    )
            if READY_MARKER in text and self.port_open():
                return
            time.sleep(0.5)
        self.stop(log=lambda _msg: None)
        raise CassandraNodeError(
            f"Cassandra on {self.endpoint} did not serve CQL within {timeout_s:.0f} s "
            f"(CLOUD_ANALYTICS_CASSANDRA_START_TIMEOUT).\n{self._log_tail()}"
        )

    def _log_tail(self, lines: int = 15) -> str:
        parts = []
        for path in (self.log_file, self.home / "logs" / "stdout.log"):
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- last lines of {path} ---\n" + "\n".join(tail))
        return "\n".join(parts) or f"(no log in {self.log_file.parent})"

    # -- stop ------------------------------------------------------------------

    def stop(self, timeout_s: float = 60.0, kill: bool = False, log=print) -> bool:
        """Stop the node (SIGTERM, or SIGKILL with kill=True). Returns False if not running."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            log(f"Cassandra on {self.endpoint} is not running: nothing to stop.")
            return False
        os.kill(pid, signal.SIGKILL if kill else signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.3)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
            while _alive(pid):
                time.sleep(0.1)
        self.pid_file.unlink(missing_ok=True)
        log(f"Cassandra on {self.endpoint} stopped (pid {pid}).")
        return True


def _alive(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)  # reap our own child so it does not linger as a zombie
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return True
    return state != "Z"


def _java_major(java: str) -> int | None:
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30).stderr
    except (OSError, subprocess.TimeoutExpired):
        return None
    for token in out.split('"')[1:2]:
        head = token.split(".")[0]
        return int(head) if head.isdigit() else None
    return None


def find_java17(java_home: str = "") -> str:
    """The java binary to run Cassandra 5.0 with: it accepts only JDK 11 or 17 (the given
    home first, then the machine's JDKs)."""
    candidates = [str(Path(java_home) / "bin" / "java")] if java_home else []
    candidates += sorted(glob.glob("/usr/lib/jvm/*17*/bin/java"))
    candidates += sorted(glob.glob("/usr/lib/jvm/*11*/bin/java"))
    if shutil.which("java"):
        candidates.append(shutil.which("java"))
    for java in candidates:
        if os.path.exists(java) and _java_major(java) in (11, 17):
            return java
    raise CassandraNodeError(
        "No JDK 17 (or 11) found for Cassandra 5.0: install openjdk-17-jdk-headless "
        "(`make setup` does) or set CLOUD_ANALYTICS_CASSANDRA_JAVA_HOME."
    )
