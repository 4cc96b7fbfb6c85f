"""The SparkSession with Delta Lake, one per process.

Jars come from the git-ignored folder that ``make setup`` fills with ``mvn`` and are passed
with ``spark.jars``: nothing is downloaded when a session starts (no ``spark.jars.packages``,
no Ivy). Static confs are set before the first session of the process, so the first caller
decides them; later callers get the same session back (``getOrCreate``).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from dagster_pyspark import LazyPySparkResource
from pydantic import PrivateAttr

from cloud_analytics.config import Settings, load_settings


class SparkSetupError(RuntimeError):
    """Spark cannot start: the message says what is missing and how to fix it."""


def delta_jars(jars_dir: Path) -> list[str]:
    """The Delta jars resolved at set-up, or a clear error when set-up has not run."""
    folder = jars_dir / "delta"
    jars = sorted(str(p) for p in folder.glob("*.jar"))
    if not any("delta-spark" in Path(j).name for j in jars):
        raise SparkSetupError(
            f"Delta Lake jars not found in {folder}. Run `make setup` (it resolves them "
            "with mvn from jvm/pom-delta.xml) or point CLOUD_ANALYTICS_JARS_DIR at them."
        )
    return jars


def spark_conf(settings: Settings) -> dict[str, str]:
    """The Spark confs of the platform, from settings."""
    conf = {
        "spark.app.name": "cloud-analytics",
        "spark.master": settings.spark_master,
        "spark.driver.memory": settings.spark_driver_memory,
        "spark.jars": ",".join(delta_jars(settings.jars_dir)),
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        # The day boundary of every partition is UTC, whatever the machine's zone.
        "spark.sql.session.timeZone": "UTC",
        "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
        "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
        "spark.sql.shuffle.partitions": str(settings.spark_shuffle_partitions),
        # Delta reads its log with 50 tasks by default: far too many on 2 cores.
        "spark.databricks.delta.snapshotPartitions": "2",
        "spark.ui.showConsoleProgress": "false",
        "spark.ui.enabled": "false",
    }
    if settings.spark_master.startswith("local"):
        # Never depend on the machine's hostname resolving for a local run.
        conf["spark.driver.host"] = "127.0.0.1"
        conf["spark.driver.bindAddress"] = "127.0.0.1"
    conf.update(dict(settings.spark_extra_conf))
    return conf


def get_spark(settings: Settings | None = None):
    """Return this process's SparkSession, creating it with the platform's confs."""
    from pyspark.sql import SparkSession

    settings = settings or load_settings()
    conf = spark_conf(settings)
    if settings.spark_master.startswith("sc://"):
        builder = SparkSession.builder.remote(settings.spark_master)
        conf = {k: v for k, v in conf.items() if k not in ("spark.master", "spark.jars")}
    else:
        builder = SparkSession.builder
    for key, value in conf.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # the JVM failed to start: say why in words
        raise SparkSetupError(
            f"Spark could not start (master {settings.spark_master}): {exc}. "
            "Check that JDK 17 is installed (`java -version`) and `make setup` has run."
        ) from exc
    if not settings.spark_master.startswith("sc://"):
        session.sparkContext.setLogLevel("WARN")
    return session


class SparkResource(LazyPySparkResource):
    """dagster-pyspark's lazy resource with the platform's Delta confs.

    The session starts on first use, so assets that never touch Spark pay nothing, and
    all Spark assets of a run share it (the jobs use the in-process executor).
    """

    spark_config: dict[str, Any] = {}
    master: str = "local[*]"
    driver_memory: str = "2g"
    shuffle_partitions: int = 4
    jars_dir: str = ""

    _spark_session = PrivateAttr(default=None)

    @classmethod
    def from_settings(cls, settings: Settings) -> "SparkResource":
        return cls(
            master=settings.spark_master,
            driver_memory=settings.spark_driver_memory,
            shuffle_partitions=settings.spark_shuffle_partitions,
            jars_dir=str(settings.jars_dir),
            spark_config=dict(settings.spark_extra_conf),
        )

    def _settings(self) -> Settings:
        base = load_settings()
        return replace(
            base,
            spark_master=self.master,
            spark_driver_memory=self.driver_memory,
            spark_shuffle_partitions=self.shuffle_partitions,
            jars_dir=Path(self.jars_dir) if self.jars_dir else base.jars_dir,
            spark_extra_conf=tuple(self.spark_config.items()) or base.spark_extra_conf,
        )

    def _init_session(self) -> None:
        if self._spark_session is None:
            self._spark_session = get_spark(self._settings())
