"""The SparkSession with Delta Lake, one per process.

Jars come from the git-ignored folder that ``make setup`` fills with ``mvn`` and are passed
with ``spark.jars``: nothing is downloaded when a session starts (no ``spark.jars.packages``,
no Ivy). Static confs are set before the first session of the process, so the first caller
decides them; later callers get the same session back (``getOrCreate``). When the platform's
Spark service runs (``resources.spark_service``), the session may instead be its client: see
``service_url``.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dagster_pyspark import LazyPySparkResource
from pydantic import PrivateAttr

from cloud_analytics.config import REPO_ROOT, ObjectStore, Settings


class SparkSetupError(RuntimeError):
    """Spark cannot start: the message says what is missing and how to fix it."""


def _resolved_jars(folder: Path, marker: str, missing: str) -> list[str]:
    """The jars set-up resolved into ``folder`` (one named with ``marker`` must be there), else
    SparkSetupError with ``missing``."""
    jars = sorted(str(p) for p in folder.glob("*.jar"))
    if not any(marker in Path(j).name for j in jars):
        raise SparkSetupError(missing)
    return jars


def delta_jars(jars_dir: Path) -> list[str]:
    """The Delta jars resolved at set-up, or a clear error when set-up has not run."""
    folder = jars_dir / "delta"
    return _resolved_jars(folder, "delta-spark",
                          f"Delta Lake jars not found in {folder}. Run `make setup` (it resolves them "
                          "with mvn from jvm/pom-delta.xml) or point CLOUD_ANALYTICS_JARS_DIR at them.")


def s3_jars(jars_dir: Path) -> list[str]:
    """The S3A connector jars (hadoop-aws and the AWS SDK), resolved by a separate set-up step
    because only a lake on an object store needs them (the SDK bundle alone is ~690 MB)."""
    folder = jars_dir / "s3"
    return _resolved_jars(folder, "hadoop-aws",
                          f"The lake is on an object store, but the S3A connector jars are not in {folder}. Run "
                          "`scripts/setup.sh cluster` (`make cluster-start` runs it) to resolve them with mvn "
                          "from jvm/pom-s3.xml.")


def s3a_conf(store: ObjectStore) -> dict[str, str]:
    """Hadoop's S3A confs for ``store``: path-style requests to its endpoint with static keys and
    a fixed region, so neither Hadoop nor the AWS SDK looks anything up in a cloud's metadata
    service; Delta's S3 log store (safe with one writing driver: see docs/deployment.md)."""
    prefix = "spark.hadoop.fs.s3a."
    conf = {
        prefix + "aws.credentials.provider": "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
        prefix + "access.key": store.access_key,
        prefix + "secret.key": store.secret_key,
        prefix + "endpoint.region": store.region,
        prefix + "path.style.access": "true",
        # Delta reads and writes small log files: no multipart uploads below 64 MB.
        prefix + "multipart.threshold": str(64 * 1024 * 1024),
        "spark.delta.logStore.s3a.impl": "io.delta.storage.S3SingleDriverLogStore",
        "spark.executorEnv.AWS_EC2_METADATA_DISABLED": "true",
    }
    if store.endpoint:
        conf[prefix + "endpoint"] = store.endpoint
        conf[prefix + "connection.ssl.enabled"] = str(store.endpoint.startswith("https://")).lower()
    return conf


@dataclass(frozen=True)
class SparkOptions:
    """What a session is built from (a slice of Settings, so a resource can carry it)."""

    master: str = "local[*]"
    driver_memory: str = "2g"
    shuffle_partitions: int = 32
    jars_dir: Path = Path(".jars")
    extra_conf: tuple[tuple[str, str], ...] = ()
    service: str = "auto"  # config.SPARK_SERVICE_MODES
    service_port: int = 15002
    service_home: Path = REPO_ROOT / ".spark_service"
    object_store: ObjectStore | None = None  # the lake's, when it is on one

    @classmethod
    def from_settings(cls, settings: Settings) -> "SparkOptions":
        return cls(settings.spark_master, settings.spark_driver_memory, settings.spark_shuffle_partitions,
                   settings.jars_dir, settings.spark_extra_conf, settings.spark_service,
                   settings.spark_service_port, settings.spark_service_home, settings.object_store)


def spark_conf(options: SparkOptions | Settings) -> dict[str, str]:
    """The Spark confs of the platform."""
    if isinstance(options, Settings):
        options = SparkOptions.from_settings(options)
    conf = {
        "spark.app.name": "cloud-analytics",
        "spark.master": options.master,
        "spark.driver.memory": options.driver_memory,
        "spark.jars": ",".join(delta_jars(options.jars_dir)
                               + (s3_jars(options.jars_dir) if options.object_store else [])),
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        # The day boundary of every partition is UTC, whatever the machine's zone.
        "spark.sql.session.timeZone": "UTC",
        "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
        "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
        # The most a shuffle splits into. Adaptive execution coalesces small outputs to a few
        # partitions; large ones stay split, so a partition of 100x the default data (4.3 M
        # events) fits the default driver memory (with 4, a cached partition was ~600 MiB).
        "spark.sql.shuffle.partitions": str(options.shuffle_partitions),
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.adaptive.coalescePartitions.enabled": "true",
        # A read task takes at most 8 MB of files (Spark: 128 MB): a large mart read in two 25 MB
        # splits made task results of ~1.4 M rows that the driver could not hold (serving at
        # scale 100).
        "spark.sql.files.maxPartitionBytes": str(8 * 1024 * 1024),
        # What Spark counts for opening a file when it packs files into read tasks (Spark: 4 MB).
        # Landed event files are ~100 KB: at 4 MB an 8 MB task took two of them, so the 1,200
        # files of scale 10 were 600 read tasks (15 s to count their lines); at 128 KB, 35 (2.6 s).
        "spark.sql.files.openCostInBytes": str(128 * 1024),
        # Spark's default is 10,000 tasks for a parallel file listing, which Delta's VACUUM
        # uses whatever the table's size: ~150 s per VACUUM of a 6-file table on 2 cores.
        "spark.sql.sources.parallelPartitionDiscovery.parallelism": "8",
        # Delta reads its log with 50 tasks by default: far too many on 2 cores.
        "spark.databricks.delta.snapshotPartitions": "2",
        # PySpark's DataFrame debugging records the Python call site of every Column call: a
        # stack walk and about ten py4j round trips each (F.col 2.0 ms against 0.6 ms without).
        # Off: a scale-1 run took 300 s against 414 s; Spark's errors lose only that call site.
        "spark.python.sql.dataFrameDebugging.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.ui.enabled": "false",
    }
    if options.master.startswith(("local", "spark://127.", "spark://localhost")):
        # Never depend on the machine's hostname resolving for a local run (it resolves to a
        # non-loopback address here): the driver listens on loopback, and so reaches a
        # standalone master on this machine too.
        conf["spark.driver.host"] = "127.0.0.1"
        conf["spark.driver.bindAddress"] = "127.0.0.1"
    if options.object_store:
        conf.update(s3a_conf(options.object_store))
        for key in ("spark.driver.extraJavaOptions", "spark.executor.extraJavaOptions"):
            conf[key] += " -Daws.disableEc2Metadata=true"
    conf.update(dict(options.extra_conf))
    return conf


def session_conf(conf: dict[str, str]) -> dict[str, str]:
    """The confs a client of a running server may still set for its own session: the SQL confs
    but the static extension list. The rest was fixed when the server's JVM started."""
    return {k: v for k, v in conf.items() if k.startswith("spark.sql.") and k != "spark.sql.extensions"}


def service_url(options: SparkOptions) -> str | None:
    """The Spark service's URL when the session is to be its client, None for an in-process
    session. A pid file and a port are checked, nothing of Spark, so the choice costs nothing."""
    if options.service == "off":
        return None
    from pyspark import SparkContext

    from cloud_analytics.resources.spark_service import SparkService, SparkServiceError

    # PySpark holds one kind of session per process: a process that already runs Spark itself
    # (the service started during a `make run`) keeps doing so.
    if options.service == "auto" and SparkContext._active_spark_context is not None:
        return None
    service = SparkService(home=options.service_home, port=options.service_port)
    if service.is_running():
        return service.url
    if options.service == "require":
        raise SparkServiceError(
            f"CLOUD_ANALYTICS_SPARK_SERVICE=require, but the Spark service is not running ({service.status()}). "
            "Start it with `cloud-analytics spark start` (make spark-start), or set "
            "CLOUD_ANALYTICS_SPARK_SERVICE=off for an in-process session."
        )
    return None


def get_spark(settings: SparkOptions | Settings):
    """Return this process's SparkSession, creating it with the platform's confs: a client of
    an ``sc://`` master or of the Spark service (``service_url``), else a session with its JVM
    in this process."""
    from pyspark.sql import SparkSession

    options = SparkOptions.from_settings(settings) if isinstance(settings, Settings) else settings
    conf = spark_conf(options)
    if options.master.startswith("sc://"):
        remote = options.master
        conf = {k: v for k, v in conf.items() if k not in ("spark.master", "spark.jars")}
    else:
        remote = service_url(options)
        conf = session_conf(conf) if remote else conf
    if remote is None:
        # Python workers (UDFs) run this interpreter, which has this package and pyarrow, not
        # whatever `python3` the PATH finds first (PySpark reads only the variable).
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        if options.object_store:  # the driver's JVM inherits it: the AWS SDK's metadata lookups off
            os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    builder = SparkSession.builder.remote(remote) if remote else SparkSession.builder
    for key, value in conf.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # the JVM failed to start or the server to answer: say why in words
        if remote:
            raise SparkSetupError(f"Spark could not connect to {remote}: {exc}") from exc
        raise SparkSetupError(
            f"Spark could not start (master {options.master}): {exc}. "
            "Check that JDK 17 is installed (`java -version`) and `make setup` has run."
        ) from exc
    if remote is None:
        session.sparkContext.setLogLevel("WARN")
    return session


class SparkResource(LazyPySparkResource):
    """dagster-pyspark's lazy resource with the platform's Delta confs.

    The session starts on first use, so assets that never touch Spark pay nothing, and
    all Spark assets of a run share it (the jobs use the in-process executor). Everything the
    session needs is a field, set by the resource builder from settings: nothing here reads
    the environment.
    """

    spark_config: dict[str, Any] = {}
    master: str = "local[*]"
    driver_memory: str = "2g"
    shuffle_partitions: int = 32
    jars_dir: str = ""
    spark_service: str = "auto"
    spark_service_port: int = 15002
    spark_service_home: str = str(REPO_ROOT / ".spark_service")
    # The lake's object store (an s3a:// lake only); the secret key is given as an EnvVar.
    s3_endpoint: str = ""
    s3_region: str = "us-east-1"
    s3_access_key: str = ""
    s3_secret_key: str = ""
    lake_on_object_store: bool = False

    _spark_session = PrivateAttr(default=None)

    @classmethod
    def from_settings(cls, settings: Settings, secret=lambda _name, value: value) -> "SparkResource":
        """``secret(name, value)``: how a secret is passed (the definitions pass an EnvVar)."""
        return cls(
            lake_on_object_store=settings.object_store is not None,
            s3_endpoint=settings.s3_endpoint,
            s3_region=settings.s3_region,
            s3_access_key=settings.s3_access_key,
            s3_secret_key=secret("S3_SECRET_KEY", settings.s3_secret_key),
            master=settings.spark_master,
            driver_memory=settings.spark_driver_memory,
            shuffle_partitions=settings.spark_shuffle_partitions,
            jars_dir=str(settings.jars_dir),
            spark_config=dict(settings.spark_extra_conf),
            spark_service=settings.spark_service,
            spark_service_port=settings.spark_service_port,
            spark_service_home=str(settings.spark_service_home),
        )

    def options(self) -> SparkOptions:
        return SparkOptions(self.master, self.driver_memory, self.shuffle_partitions, Path(self.jars_dir),
                            tuple(self.spark_config.items()), self.spark_service, self.spark_service_port,
                            Path(self.spark_service_home),
                            ObjectStore(self.s3_endpoint, self.s3_region, self.s3_access_key, self.s3_secret_key)
                            if self.lake_on_object_store else None)

    def _init_session(self) -> None:
        if self._spark_session is None:
            self._spark_session = get_spark(self.options())
