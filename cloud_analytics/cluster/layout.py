"""Where the cluster's servers listen and keep their files, its credentials, and the variables
that point the platform at it (``cloud-analytics cluster env``).

Ports differ from the local mode's (Cassandra 9042, the Spark service 15002), so a local node
and the cluster can run side by side. Credentials (the object store's keys, the Dagster
database's password) are generated once into ``<home>/credentials.json`` (mode 0600) unless
CLOUD_ANALYTICS_S3_ACCESS_KEY / _S3_SECRET_KEY give the object store's.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cloud_analytics.config import PREFIX, Settings, load_settings

# Three nodes, one token each, evenly spaced on the Murmur3 ring: each owns a third.
CASSANDRA_TOKENS = ("-9223372036854775808", "-3074457345618258603", "3074457345618258602")


@dataclass(frozen=True)
class ClusterLayout:
    home: Path
    # Spark standalone: a master, and workers of one core each (the executors' memory is below
    # the worker's so the worker's own JVM fits beside it).
    spark_master_port: int = 17077
    spark_master_ui_port: int = 18080
    spark_workers: int = 2
    spark_worker_port: int = 17081  # the first worker's; the next ones count up
    spark_worker_ui_port: int = 18081
    spark_worker_memory: str = "1200m"
    spark_executor_memory: str = "900m"
    # The Spark service (the cluster's one driver, a Spark Connect server).
    spark_service_port: int = 15102
    spark_driver_memory: str = "1g"
    # SeaweedFS: S3 API, and its master, volume and filer servers.
    s3_port: int = 18333
    seaweed_master_port: int = 19333
    seaweed_volume_port: int = 18084
    seaweed_filer_port: int = 18888
    seaweed_admin_port: int = 18646
    s3_region: str = "us-east-1"
    bucket: str = "cloud-analytics"
    lake_prefix: str = "lake"
    # Cassandra: one address per node, the same ports on each.
    cassandra_hosts: tuple[str, ...] = ("127.0.0.1", "127.0.0.2", "127.0.0.3")
    cassandra_port: int = 19042
    cassandra_storage_port: int = 17000
    cassandra_heap: str = "512m"
    cassandra_replication_factor: int = 3
    # PostgreSQL for Dagster's instance.
    postgres_port: int = 15432
    postgres_db: str = "dagster"
    postgres_user: str = "dagster"

    @classmethod
    def from_settings(cls, settings: Settings) -> "ClusterLayout":
        return cls(home=settings.cluster_home)

    # -- places ----------------------------------------------------------------

    @property
    def lake(self) -> str:
        return f"s3a://{self.bucket}/{self.lake_prefix}"

    @property
    def s3_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    @property
    def spark_master_url(self) -> str:
        return f"spark://127.0.0.1:{self.spark_master_port}"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster_home"

    # -- credentials -----------------------------------------------------------

    @property
    def credentials_file(self) -> Path:
        return self.home / "credentials.json"

    def credentials(self, settings: Settings | None = None) -> dict[str, str]:
        """The object store's keys and the Dagster database's password: the given settings' keys
        when set, else the ones generated at the first start (kept in ``credentials_file``)."""
        stored: dict[str, str] = {}
        if self.credentials_file.is_file():
            stored = json.loads(self.credentials_file.read_text())
        if not stored:
            stored = {"s3_access_key": "ca" + secrets.token_hex(8), "s3_secret_key": secrets.token_hex(20),
                      "postgres_password": secrets.token_hex(16)}
            self.home.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.credentials_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                json.dump(stored, handle)
        if settings is not None and settings.s3_access_key and settings.s3_secret_key:
            stored = {**stored, "s3_access_key": settings.s3_access_key, "s3_secret_key": settings.s3_secret_key}
        return stored

    # -- the variables that point the platform at the cluster ------------------

    def environment(self, settings: Settings | None = None) -> dict[str, str]:
        """Every variable a command needs to run on the cluster (printed by ``cluster env``).
        The landing folder stays what CLOUD_ANALYTICS_LANDING (or its default) says in ``settings``,
        made absolute: the daemon and its runs work in other folders than the shell."""
        keys = self.credentials(settings)
        executor_conf = {
            "spark.executor.memory": self.spark_executor_memory,
            "spark.executor.cores": "1",
            "spark.cores.max": str(self.spark_workers),
            # An executor lost with its worker: its tasks go to the others (Spark's default 4 tries).
            "spark.task.maxFailures": "4",
        }
        env = {
            "CLUSTER_HOME": str(self.home),
            "LAKE": self.lake,
            "S3_ENDPOINT": self.s3_endpoint,
            "S3_REGION": self.s3_region,
            "S3_ACCESS_KEY": keys["s3_access_key"],
            "S3_SECRET_KEY": keys["s3_secret_key"],
            "SPARK_MASTER": self.spark_master_url,
            "SPARK_DRIVER_MEMORY": self.spark_driver_memory,
            "SPARK_SHUFFLE_PARTITIONS": str(4 * self.spark_workers),
            "SPARK_CONF": ";".join(f"{k}={v}" for k, v in executor_conf.items()),
            "SPARK_SERVICE": "require",
            "SPARK_SERVICE_PORT": str(self.spark_service_port),
            "SPARK_SERVICE_HOME": str(self.home / "spark_service"),
            "CASSANDRA_HOSTS": ",".join(self.cassandra_hosts),
            "CASSANDRA_PORT": str(self.cassandra_port),
            "CASSANDRA_STORAGE_PORT": str(self.cassandra_storage_port),
            "CASSANDRA_REPLICATION_FACTOR": str(self.cassandra_replication_factor),
            "CASSANDRA_HEAP": self.cassandra_heap,
        }
        if settings is not None:
            env["LANDING"] = str(settings.landing)
        out = {PREFIX + key: value for key, value in env.items()}
        out.update({
            "DAGSTER_HOME": str(self.dagster_home),
            "DAGSTER_PG_HOST": "127.0.0.1",
            "DAGSTER_PG_PORT": str(self.postgres_port),
            "DAGSTER_PG_DB": self.postgres_db,
            "DAGSTER_PG_USERNAME": self.postgres_user,
            "DAGSTER_PG_PASSWORD": keys["postgres_password"],
            # Every AWS SDK in the process (Hadoop's, pyarrow's): no instance-metadata lookups.
            "AWS_EC2_METADATA_DISABLED": "true",
        })
        return out

    def settings(self, base: Settings | None = None) -> Settings:
        """The platform's settings on the cluster: this process's environment (its landing folder,
        its pepper, ...) with the cluster's variables over it."""
        return load_settings({**os.environ, **self.environment(base)})
