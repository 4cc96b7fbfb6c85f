"""Materialize the asset graph layer by layer with Dagster, in-process.

Used by ``cloud-analytics run`` and the end-to-end tests. Each step is one Dagster run over
a partition (or a single-run partition range) of the assets that share a partitions
definition, so a first run over all history is a handful of Spark jobs, not one per day.
Runs go to the DAGSTER_HOME instance, so they appear in ``dagster dev`` afterwards.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from dagster import AssetKey, DagsterInstance, materialize

from cloud_analytics.config import Settings
from cloud_analytics.errors import PipelineError

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


@dataclass
class StepResult:
    name: str
    seconds: float
    materializations: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed_checks: list[str] = field(default_factory=list)
    partition_range: tuple[str, str] | None = None


def _root_cause(error) -> str:
    """The innermost error's first line: the user's problem, not Dagster's wrapper."""
    while error.cause is not None:
        error = error.cause
    return error.message.strip().splitlines()[0]


def get_instance() -> DagsterInstance:
    try:
        return DagsterInstance.get()  # DAGSTER_HOME (the Makefile sets it to .dagster_home)
    except Exception:
        return DagsterInstance.ephemeral()


def stream_run_key(now: datetime | None = None) -> str:
    """The dynamic partition key naming one stream trigger: its UTC start time."""
    return (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")


def run_step(name: str, assets: list, selection: list[AssetKey], resources: dict, instance: DagsterInstance,
             partition_key: str | None = None, partition_range: tuple[str, str] | None = None,
             log=print) -> StepResult:
    """One Dagster run; raises PipelineError naming the step and its failed checks."""
    tags = {}
    if partition_range:
        tags = {RANGE_START_TAG: partition_range[0], RANGE_END_TAG: partition_range[1]}
    started = time.monotonic()
    # Progress goes through ``log``; the full event log (with stack traces) is in the
    # instance, visible in `dagster dev`, so the console stays readable.
    quiet = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    result = materialize(assets, selection=selection, resources=resources, instance=instance,
                         partition_key=partition_key, tags=tags, raise_on_error=False, run_config=quiet)
    step = StepResult(name, time.monotonic() - started, partition_range=partition_range)
    if not result.success:
        failure = next((e for e in result.all_events if e.is_step_failure), None)
        detail = _root_cause(failure.step_failure_data.error) if failure else "see the run in dagster dev"
        raise PipelineError(f"step '{name}' failed (run {result.run_id}): {detail}")
    for event in result.get_asset_materialization_events():
        mat = event.materialization
        label = "/".join(mat.asset_key.path)
        step.materializations[label] = {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
    for evaluation in result.get_asset_check_evaluations():
        if not evaluation.passed:
            step.failed_checks.append(
                f"{'/'.join(evaluation.asset_key.path)}:{evaluation.check_name} ({evaluation.severity.value})"
            )
    log(f"{name}: {len(step.materializations)} materializations in {step.seconds:.1f} s")
    return step


def materialize_all(settings: Settings, instance: DagsterInstance | None = None, log=print,
                    layers: tuple[str, ...] | None = None) -> list[StepResult]:
    """Every layer that exists (or only ``layers``), in dependency order."""
    from cloud_analytics.definitions import build_resources
    from cloud_analytics.jobs import pipeline_steps

    instance = instance or get_instance()
    resources = build_resources(settings)
    steps = []
    for spec in pipeline_steps(instance, layers):
        if callable(spec.get("partition_range")):  # decided by what earlier steps did
            spec = {**spec, "partition_range": spec["partition_range"](steps)}
            if spec["partition_range"] is None:
                log(f"{spec['name']}: nothing to rebuild")
                continue
            spec["name"] += " {}..{}".format(*spec["partition_range"])
        steps.append(run_step(resources=resources, instance=instance, log=log, **spec))
    return steps


def print_summary(steps: list[StepResult], log=print) -> None:
    log("")
    log("summary")
    log("-------")
    for step in steps:
        for asset, meta in step.materializations.items():
            rows = meta.get("dagster/row_count", "")
            extra = meta.get("summary", "")
            log(f"  {asset:<36} {rows:>10,} rows  {extra}" if isinstance(rows, int) else f"  {asset:<36} {extra}")
            fired = {rule: n for rule, n in (meta.get("dq_rule_counts") or {}).items() if n}
            if fired:
                log(f"  {'':<36} rules: " + ", ".join(f"{rule} {n:,}" for rule, n in fired.items()))
    failed = [c for s in steps for c in s.failed_checks]
    log(f"asset checks: {'all passed' if not failed else 'FAILED: ' + ', '.join(failed)}")
