"""The one Definitions object: every layer's assets, the jobs, sensors and schedules, and the
resources for the outside systems, built from settings read once here (the edge).

``defs`` is built lazily (``@definitions``): importing this module reads nothing and starts
nothing; ``dagster dev`` and ``dagster definitions validate`` call it. Tests and ``make run``
call ``build_definitions(settings)`` with their own settings, so two lakes with two keyspaces
can live in one process without leaking into each other.
"""

from __future__ import annotations

from dagster import Definitions, EnvVar, definitions, in_process_executor

from cloud_analytics.bronze.assets import assets as bronze_assets
from cloud_analytics.config import PREFIX, Settings, load_settings
from cloud_analytics.gold.assets import assets as gold_assets
from cloud_analytics.orchestration.jobs import jobs
from cloud_analytics.orchestration.maintenance import weekly_maintenance_job, weekly_maintenance_schedule
from cloud_analytics.orchestration.schedules import schedules
from cloud_analytics.orchestration.sensors import build_sensors
from cloud_analytics.resources.alerts import AlertWebhookResource
from cloud_analytics.resources.cassandra import CassandraResource
from cloud_analytics.resources.lake import LakeResource
from cloud_analytics.resources.quality import QualityResource
from cloud_analytics.resources.spark import SparkResource
from cloud_analytics.serving.assets import assets as serving_assets
from cloud_analytics.silver.assets import assets as silver_assets
from cloud_analytics.speed.assets import assets as speed_assets

ASSETS = [*bronze_assets, *silver_assets, *gold_assets, *speed_assets, *serving_assets]


def build_resources(settings: Settings) -> dict:
    """Every resource, from settings. Secrets that came from the process environment are
    passed as ``EnvVar``, so the UI and the run config never show their value."""
    secret = lambda name, value: EnvVar(PREFIX + name) if name in settings.secrets_in_environment else value  # noqa: E731
    pepper = secret("PII_PEPPER", settings.pii_pepper)
    return {
        "spark": SparkResource.from_settings(settings, secret),
        "lake": LakeResource.from_settings(settings, secret),
        "cassandra": CassandraResource.from_settings(settings, secrets_as_env_vars=True),
        "quality": QualityResource(pii_pepper=pepper, max_quarantine_rate=settings.max_quarantine_rate,
                                   min_cost_increment=settings.min_cost_increment,
                                   negative_costs=settings.negative_costs),
        "alert_webhook": AlertWebhookResource.from_settings(settings, url=secret("ALERT_WEBHOOK",
                                                                                settings.alert_webhook)),
    }


def build_definitions(settings: Settings) -> Definitions:
    return Definitions(
        assets=ASSETS,
        jobs=[*jobs, weekly_maintenance_job],
        schedules=[*schedules, weekly_maintenance_schedule],
        sensors=build_sensors(settings.sensor_interval_s, settings.sensors_on),
        resources=build_resources(settings),
        # One process per run: the SparkSession (and its JVM jars) starts once and is shared
        # by every Spark asset of the run.
        executor=in_process_executor,
    )


@definitions
def defs() -> Definitions:
    return build_definitions(load_settings())
