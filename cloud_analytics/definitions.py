"""The one Definitions object: every layer's assets, checks, jobs, sensors and schedules,
with the resources for the outside systems built once from the environment."""

from __future__ import annotations

from dagster import Definitions, in_process_executor

from cloud_analytics.bronze.assets import assets as bronze_assets
from cloud_analytics.config import Settings, load_settings
from cloud_analytics.jobs import jobs
from cloud_analytics.maintenance import weekly_maintenance_job, weekly_maintenance_schedule
from cloud_analytics.gold.assets import assets as gold_assets
from cloud_analytics.schedules import schedules
from cloud_analytics.sensors import sensors
from cloud_analytics.serving.assets import assets as serving_assets
from cloud_analytics.silver.assets import assets as silver_assets
from cloud_analytics.speed.assets import assets as speed_assets
from cloud_analytics.resources.cassandra import CassandraResource
from cloud_analytics.resources.lake import LakeResource
from cloud_analytics.resources.spark import SparkResource


def build_resources(settings: Settings | None = None) -> dict:
    settings = settings or load_settings()
    cassandra = CassandraResource.from_settings(settings, secrets_from_env=True)
    return {
        "spark": SparkResource.from_settings(settings),
        "lake": LakeResource.from_settings(settings),
        "cassandra": cassandra,
    }


defs = Definitions(
    assets=[*bronze_assets, *silver_assets, *gold_assets, *speed_assets, *serving_assets],
    jobs=[*jobs, weekly_maintenance_job],
    schedules=[*schedules, weekly_maintenance_schedule],
    sensors=sensors,
    resources=build_resources(),
    # One process per run: the SparkSession (and its JVM jars) starts once and is shared
    # by every Spark asset of the run.
    executor=in_process_executor,
)
