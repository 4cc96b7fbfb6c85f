"""The one Definitions object: every layer's assets, checks, jobs, sensors and schedules,
with the resources for the outside systems built once from the environment."""

from __future__ import annotations

import os
import warnings

from dagster import BetaWarning, Definitions, EnvVar, in_process_executor

# BackfillPolicy is beta in 1.13 but is exactly what partitioned Spark assets need.
warnings.filterwarnings("ignore", category=BetaWarning)

from cloud_analytics.bronze.assets import assets as bronze_assets
from cloud_analytics.config import PREFIX, load_settings
from cloud_analytics.jobs import jobs
from cloud_analytics.resources.cassandra import CassandraResource
from cloud_analytics.resources.lake import LakeResource
from cloud_analytics.resources.spark import SparkResource


def _secret(name: str):
    """Secrets go through EnvVar so Dagster never shows their value."""
    return EnvVar(PREFIX + name) if os.environ.get(PREFIX + name) else ""


def build_resources() -> dict:
    settings = load_settings()
    cassandra = CassandraResource.from_settings(settings).model_copy(
        update={"password": _secret("CASSANDRA_PASSWORD"), "astra_token": _secret("ASTRA_TOKEN")}
    )
    return {
        "spark": SparkResource.from_settings(settings),
        "lake": LakeResource.from_settings(settings),
        "cassandra": cassandra,
    }


defs = Definitions(
    assets=[*bronze_assets],
    jobs=jobs,
    resources=build_resources(),
    # One process per run: the SparkSession (and its JVM jars) starts once and is shared
    # by every Spark asset of the run.
    executor=in_process_executor,
)
