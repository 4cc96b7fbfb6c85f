"""A real single-node Apache Cassandra 5.0, run from the Maven jars as its own Java process.

``make setup`` resolves ``cassandra-all`` into ``<jars>/cassandra``; this module writes a
minimal cassandra.yaml and logback.xml under the node's home folder (git-ignored), starts
``CassandraDaemon`` with the JDK 17 module flags Cassandra 5.0 needs, waits until it serves
CQL, and stops it with SIGTERM. Nodes are parametrized by address and home, so tests can
run two of them on 127.0.0.1 and 127.0.0.2.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path

from cloud_analytics.config import Settings
from cloud_analytics.lib.processes import LocalProcessError, LocalServer, find_java17

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

# commitlog_sync: group: a write is acknowledged once its commit log group (15 ms) is on disk,
# so a node killed with SIGKILL (or a machine that loses power) keeps every write it acknowledged;
# the default "periodic" acknowledges first and lost writes of the last ~100 ms to a kill -9
# (faults/test_hard_kills.py). The loader keeps 64 requests in flight, so the wait costs little.
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
authorizer: {authorizer}
commitlog_sync: group
commitlog_sync_group_window: 15ms
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


class CassandraNodeError(LocalProcessError):
    """The local node cannot start or stop; the message says why and where to look."""


@dataclass(frozen=True)
class LocalNode(LocalServer):
    """One local Cassandra node: where it listens and where it keeps its files."""

    label = "Cassandra"
    description = "Cassandra 5.0"
    protocol = "CQL"
    cmdline_marker = b"CassandraDaemon"
    ready_marker = "Startup complete"
    failure_markers = ("Exception encountered during startup", "Failed to bind port", "Address already in use")
    port_setting = "CLOUD_ANALYTICS_CASSANDRA_PORT"
    timeout_setting = "CLOUD_ANALYTICS_CASSANDRA_START_TIMEOUT"
    error = CassandraNodeError
    pid_name = "cassandra.pid"
    log_name = "logs/system.log"
    output_name = "logs/stdout.log"

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
    # CassandraAuthorizer: roles need GRANTs (needs password_auth). Tests use it to play a managed
    # cluster's restricted role.
    authorization: bool = False
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
                authorizer="CassandraAuthorizer" if self.authorization else "AllowAllAuthorizer",
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
        if self.authorization and not self.password_auth:
            raise CassandraNodeError("A node with authorization needs password_auth (CassandraAuthorizer "
                                     "cannot work with AllowAllAuthenticator).")
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
        if self.password_auth:  # the default superuser cassandra/cassandra at start, not 10 s later
            cmd.append("-Dcassandra.superuser_setup_delay_ms=0")
        if jamm:
            cmd.append(f"-javaagent:{jamm}")
        cmd += [f"--add-exports={m}=ALL-UNNAMED" for m in _ADD_EXPORTS]
        cmd += [f"--add-opens={m}=ALL-UNNAMED" for m in _ADD_OPENS]
        cmd += ["-cp", f"{self.home / 'conf'}:{self.jars_dir}/*", "org.apache.cassandra.service.CassandraDaemon"]
        return cmd

    def launch(self) -> tuple[list[str], dict[str, str]]:
        java = find_java17(self.java_home, needed_by="Cassandra 5.0", hint="set CLOUD_ANALYTICS_CASSANDRA_JAVA_HOME",
                           majors=(17, 11), error=CassandraNodeError)
        return self.command(java), {}
