"""Dagster steps on the fault lake: ``runner.run_step`` over the project's asset graph, with
the selections the fault tests need (a few assets, not the whole pipeline, to stay fast)."""

from __future__ import annotations

from dagster import AssetKey

from cloud_analytics.bronze.assets import csv_assets, usage_events_stream
from cloud_analytics.gold.assets import assets as gold_assets
from cloud_analytics.partitions import stream_runs
from cloud_analytics.orchestration.runner import StepResult, run_step, stream_run_key
from cloud_analytics.serving.assets import assets as serving_assets
from cloud_analytics.silver.assets import assets as silver_assets

EVERY = [*csv_assets, usage_events_stream, *silver_assets, *gold_assets, *serving_assets]


def keys(layer: str, *names: str) -> list[AssetKey]:
    return [AssetKey([layer, name]) for name in names]


BRONZE_DIMS = keys("bronze", "customers_orgs", "resources")
# A conformed silver table and its quarantine are one multi-asset: selected together.
SILVER_DIMS = [*keys("silver", "customers_orgs", "customers_orgs_history", "resources", "resources_history"),
               *keys("quarantine", "customers_orgs", "resources")]
STREAM = list(usage_events_stream.keys)
SILVER_EVENTS = [*keys("silver", "usage_events"), *keys("quarantine", "usage_events")]
GOLD_USAGE = keys("gold", "org_daily_usage_by_service")
SERVING_USAGE = keys("serving", "org_daily_usage")
USAGE = [*SILVER_EVENTS, *GOLD_USAGE, *SERVING_USAGE]  # one daily-partitioned run, in order

_stream_runs = 0
TIMES: list = []


def step(name: str, selection, resources: dict, instance, partition_key: str | None = None,
         partition_range: tuple[str, str] | None = None) -> StepResult:
    """One Dagster run; raises PipelineError when it fails; its checks must all pass."""
    import time
    t0 = time.monotonic()
    result = run_step(name, EVERY, list(selection), resources, instance, partition_key=partition_key,
                      partition_range=partition_range, log=lambda _m: None)
    TIMES.append((name, round(time.monotonic() - t0, 1)))
    assert result.failed_checks == [], f"{name}: failed checks {result.failed_checks}"
    return result


def stream_step(name: str, resources: dict, instance) -> StepResult:
    """One trigger of the bronze usage-event stream asset under a new dynamic partition."""
    global _stream_runs
    _stream_runs += 1
    key = f"{stream_run_key()}-{_stream_runs}"
    instance.add_dynamic_partitions(stream_runs.name, [key])
    return step(name, STREAM, resources, instance, partition_key=key)
