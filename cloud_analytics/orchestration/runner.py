"""Execute the named jobs in process, over the ranges ``ranges.py`` plans: ``make run``, the
end-to-end tests and the benchmarks all go through ``run_jobs``.

Each job runs layer by layer (bronze, silver, gold, serving; the stream job whole, since its
multi-assets cannot be split), so a layer's inputs exist before it reads them, and a job's run
in the UI is the named job with the assets of one layer selected. Runs go to the given Dagster
instance (DAGSTER_HOME for ``make run``), so they show up in ``dagster dev``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from dagster import AssetKey, AssetObservation, AssetRecordsFilter, DagsterInstance, Definitions, MetadataValue
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from cloud_analytics.lib.errors import PipelineError, serialized_root_cause
from cloud_analytics.orchestration import inputs, ranges
from cloud_analytics.orchestration.catalog import is_partitioned
from cloud_analytics.orchestration.jobs import (
    BILLING_JOB,
    FOLLOW_UP_TAGS,
    HEALTH_JOB,
    JOB_KEYS,
    REFRESH_JOB,
    RESOURCES_SNAPSHOT,
    SHARED_KEYS,
    SNAPSHOT_JOB,
    STREAM_JOB,
    TICKETS_JOB,
)
from cloud_analytics.partitions import billing_monthly, snapshot_daily, stream_runs

# Dagster's own tags for a single run over a partition range (re-exported for sensors/tests).
RANGE_START_TAG = ASSET_PARTITION_RANGE_START_TAG
RANGE_END_TAG = ASSET_PARTITION_RANGE_END_TAG
STAGES = ("bronze", "silver", "gold", "serving")
# The order of ``make run`` within a stage: what a later job reads is built by an earlier one.
ORDER = (SNAPSHOT_JOB, BILLING_JOB, STREAM_JOB, REFRESH_JOB, TICKETS_JOB, HEALTH_JOB)
USAGE_EVENTS = AssetKey(["bronze", "usage_events"])
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


@dataclass
class StepResult:
    name: str
    seconds: float
    materializations: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed_checks: list[str] = field(default_factory=list)
    partition_range: tuple[str, str] | None = None
    run_id: str = ""


def relax_sqlite_durability() -> None:
    """Commit Dagster's SQLite run and event storage without fsync (``PRAGMA synchronous=OFF``),
    for this process only.

    A range run records an event per partition (a first run writes thousands), and with the
    defaults each one is a synced commit plus a WAL checkpoint when its connection closes: most
    of a run's bookkeeping time on this machine. Without fsync a crash of the process loses
    nothing; only an operating-system crash or power cut can lose or damage the local instance
    (DAGSTER_HOME, a development store: production runs Dagster on PostgreSQL, where this does
    not apply). The lake and Cassandra are unaffected either way."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    if not event.contains(Engine, "connect", _no_fsync):
        event.listen(Engine, "connect", _no_fsync)


def _no_fsync(dbapi_connection, _record) -> None:
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.close()


def get_instance() -> DagsterInstance:
    """The DAGSTER_HOME instance (the Makefile sets it to .dagster_home), or an ephemeral one when
    no DAGSTER_HOME is set. An instance that is configured but cannot load (Postgres unreachable,
    dagster-postgres missing) is an error, never silently replaced by a forgetful one."""
    from dagster._core.errors import DagsterHomeNotSetError

    try:
        return DagsterInstance.get()
    except DagsterHomeNotSetError:
        return DagsterInstance.ephemeral()


def stream_run_key(now: datetime | None = None) -> str:
    """The dynamic partition key naming one stream trigger: its UTC start time."""
    return (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")


def range_tags(partition_range: tuple[str, str] | None) -> dict[str, str]:
    return {RANGE_START_TAG: partition_range[0], RANGE_END_TAG: partition_range[1]} if partition_range else {}


def run_job(defs: Definitions, plan: ranges.Plan, instance: DagsterInstance, selection: list[AssetKey] | None = None,
            log: Callable[[str], None] = print, name: str | None = None, tags: dict[str, str] | None = None,
            ) -> StepResult:
    """One run of a named job (optionally a subset of its assets); raises PipelineError naming
    the run, the failed step's exception class and root cause. The whole error chain stays in
    the run's event log (``dagster dev``), so the console keeps one readable line."""
    name = name or plan.label
    wait_for_daemon_runs(instance, plan.job, log)
    started = time.monotonic()
    job = defs.resolve_job_def(plan.job)
    result = job.execute_in_process(
        instance=instance, partition_key=plan.partition_key, asset_selection=selection, raise_on_error=False,
        tags={**range_tags(plan.partition_range), **(tags or {})}, run_config=QUIET)
    return _step_result(name, started, result, plan.partition_range, log)


def wait_for_daemon_runs(instance: DagsterInstance, job_name: str, log: Callable[[str], None] = print,
                         poll_s: float = 2.0) -> None:
    """Wait while a run of the same job that a Dagster daemon launched is executing (a sensor's
    stream run, a refresh): two runs of one job share a stream checkpoint or rewrite the same
    partitions. The other way round needs nothing: this run carries its job's concurrency tag, so
    the daemon's queue holds its runs of that job until this one ends (deploy/dagster*.yaml)."""
    from cloud_analytics.orchestration.watchdog import live_runs

    waited, announced = time.monotonic(), 0.0
    while running := live_runs(instance, job_name):
        if time.monotonic() - announced > 60:
            log(f"{job_name}: waiting for run {running[0].run_id[:8]}, launched by the Dagster daemon, to end "
                f"({time.monotonic() - waited:.0f} s so far)")
            announced = time.monotonic()
        time.sleep(poll_s)


def stopped_driver_hint(context=None) -> str:
    """What to do when a step's failure stopped this process's Spark driver.

    The error Spark reports then is a follow-on one ("SparkContext was shut down", a null
    ``dagScheduler``); the cause is almost always the driver running out of memory, which
    only the JVM's log names. Empty when the driver still runs (or there is none)."""
    if context is None:
        from pyspark import SparkContext

        context = SparkContext._active_spark_context
    if context is None:
        return ""
    try:
        if not context._jsc.sc().isStopped():
            return ""
        memory = context.getConf().get("spark.driver.memory", "1g")
    except Exception:  # the JVM itself is gone: the same advice holds
        memory = "its default"
    return (f". The Spark driver stopped during the step, most often because it ran out of memory "
            f"(java.lang.OutOfMemoryError in the log above): raise CLOUD_ANALYTICS_SPARK_DRIVER_MEMORY "
            f"(now {memory}) and run again; what committed before is kept")


def _step_result(name: str, started: float, result, partition_range, log) -> StepResult:
    step = StepResult(name, time.monotonic() - started, partition_range=partition_range, run_id=result.run_id)
    if not result.success:
        failure = next((e for e in result.all_events if e.is_step_failure), None)
        detail = (f"{failure.step_key}: {serialized_root_cause(failure.step_failure_data.error)}" if failure
                  else "see the run in dagster dev")
        raise PipelineError(f"step '{name}' failed (run {result.run_id}): {detail}{stopped_driver_hint()}")
    for event in result.get_asset_materialization_events():
        mat = event.materialization
        label = "/".join(mat.asset_key.path)
        step.materializations[label] = {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
    for evaluation in result.get_asset_check_evaluations():
        if not evaluation.passed:
            step.failed_checks.append(
                f"{'/'.join(evaluation.asset_key.path)}:{evaluation.check_name} ({evaluation.severity.value})")
    log(f"{name}: {len(step.materializations)} materializations in {step.seconds:.1f} s")
    return step


def run_step(name: str, assets: list, selection: list[AssetKey], resources: dict, instance: DagsterInstance,
             partition_key: str | None = None, partition_range: tuple[str, str] | None = None,
             log: Callable[[str], None] = print) -> StepResult:
    """An ad-hoc run of some assets, like "Materialize selected" in the UI: the fault-injection
    tests and benchmarks use it to stop a pipeline half-way or to time one asset. The pipeline
    itself never does: it runs the named jobs (``run_jobs``)."""
    from dagster import materialize

    started = time.monotonic()
    result = materialize(assets, selection=selection, resources=resources, instance=instance,
                         partition_key=partition_key, tags=range_tags(partition_range), raise_on_error=False,
                         run_config=QUIET)
    return _step_result(name, started, result, partition_range, log)


# -- facts the planning functions need, read from the instance (no Spark) -----------------------------


def touched_dates(instance: DagsterInstance, after_storage_id: int | None = None) -> tuple[set[str], int | None]:
    """Dates the stream runs touched (after a storage id), and the newest storage id seen."""
    dates: set[str] = set()
    newest, cursor = after_storage_id, None
    while True:
        page = instance.fetch_materializations(
            AssetRecordsFilter(asset_key=USAGE_EVENTS, after_storage_id=after_storage_id), limit=500,
            cursor=cursor, ascending=True)
        for record in page.records:
            value = record.asset_materialization.metadata.get("dates_touched")
            dates.update(getattr(value, "value", None) or [])
            newest = record.storage_id
        if not page.has_more:
            return dates, newest
        cursor = page.cursor


def newest_snapshot(instance: DagsterInstance) -> str | None:
    """The newest snapshot day silver holds (not today by the clock: the snapshot job may not have
    run yet today, and a snapshot mart built on a missing snapshot would be empty)."""
    return max(instance.get_materialized_partitions(RESOURCES_SNAPSHOT), default=None)


def materialized(instance: DagsterInstance, keys: list[AssetKey]) -> dict[str, set[str]]:
    """The materialized partitions of each partitioned key (an unpartitioned one has none to miss)."""
    return {"/".join(k.path): set(instance.get_materialized_partitions(k)) for k in keys if is_partitioned(k)}


def plan(job: str, keys: list[AssetKey], instance: DagsterInstance, touched: set[str]) -> ranges.Plan | None:
    """The run of ``job`` (over ``keys``) that brings its assets up to date; None: nothing to do."""
    if job == STREAM_JOB:
        return ranges.Plan(job, partition_key=stream_run_key())  # added as a partition when it runs
    if job == SNAPSHOT_JOB:
        return ranges.Plan(job, partition_key=snapshot_daily.get_last_partition_key())
    if job == TICKETS_JOB:
        return ranges.Plan(job)
    if job == BILLING_JOB:
        months = billing_monthly.get_partition_keys()
        todo = [ranges.missing_and_latest(months, done) for done in materialized(instance, keys).values()]
        window = ranges.span(k for r in todo if r for k in r)
        return ranges.Plan(job, partition_range=window) if window else None
    ever, _ = touched_dates(instance)
    if job == REFRESH_JOB:
        window = ranges.dates_to_rebuild(touched, ever, materialized(instance, keys))
    elif job == HEALTH_JOB:
        window = ranges.newest_date(ever)
    else:
        raise ValueError(f"no plan for job {job}")
    return ranges.Plan(job, partition_range=window) if window else None


# -- nothing new landed: skip what was already built from the same input ------------------------------


def partitions_of(planned: ranges.Plan) -> list[str | None]:
    """The partitions a plan covers; [None] for an unpartitioned job and for a stream trigger
    (a new dynamic partition each time: compare with the newest one instead)."""
    if planned.job == STREAM_JOB or (planned.partition_key is None and planned.partition_range is None):
        return [None]
    if planned.partition_key is not None:
        return [planned.partition_key]
    first, last = planned.partition_range
    every = billing_monthly.get_partition_keys() if planned.job == BILLING_JOB else {first, last}
    return sorted(k for k in every if first <= k <= last)


def last_inputs(instance: DagsterInstance, key: AssetKey, partition: str | None) -> dict[str, str] | None:
    """The input fingerprints of the run that last materialized ``key`` (in ``partition``); None
    when it was never materialized or by a run that did not record them."""
    partitions = [partition] if partition and is_partitioned(key) else None
    page = instance.fetch_materializations(AssetRecordsFilter(asset_key=key, asset_partitions=partitions), limit=1,
                                           ascending=False)
    run = instance.get_run_by_id(page.records[0].run_id) if page.records else None
    return inputs.parse(run.tags[inputs.TAG]) if run and inputs.TAG in run.tags else None


def skip_unchanged(instance: DagsterInstance, planned: ranges.Plan, keys: list[AssetKey], landing: Path,
                   log: Callable[[str], None], force: bool = False) -> ranges.Plan | None:
    """``planned`` without the partitions every asset of ``keys`` was last built from the same
    landed content (all of it with ``force``); None when that is all of them. The plan carries
    the fingerprints, tagged on its runs for the next plan; a skip is recorded as an asset
    observation (visible in the UI)."""
    current = inputs.fingerprints(planned.job, landing)
    if not current:
        return planned  # the usage refresh: its input is the touched dates, planned already
    # A table several jobs publish was last built by any of them: the job's own assets decide.
    keys = [k for k in keys if k not in SHARED_KEYS]
    tagged = replace(planned, inputs=inputs.render(current))
    if force:
        return tagged
    partitions = partitions_of(planned)

    def built_from_same(key: AssetKey, partition: str | None) -> bool:
        recorded, scope = last_inputs(instance, key, partition), inputs.scope(planned.job, partition)
        return recorded is not None and recorded.get(scope, "") == current.get(scope, "")

    unchanged = [p for p in partitions if all(built_from_same(k, p) for k in keys)]
    if not unchanged:
        return tagged
    note = {"skipped": MetadataValue.text("the landed input is unchanged since this asset was last built"),
            "partitions_skipped": MetadataValue.json([p for p in unchanged if p]),
            "input_fingerprints": MetadataValue.json(current)}
    for key in keys:  # one observation per asset, on the newest partition skipped
        partition = unchanged[-1] if is_partitioned(key) and planned.job != STREAM_JOB else None
        instance.report_runless_asset_event(AssetObservation(asset_key=key, partition=partition, metadata=note))
    remaining = [p for p in partitions if p not in unchanged]
    if remaining:
        log(f"{planned.job}: {len(unchanged)} of {len(partitions)} partitions unchanged since built, skipped")
        return replace(tagged, partition_range=ranges.span(remaining))
    log(f"{planned.label}: landed input unchanged since it was built, skipped")
    return None


def stage_of(job: str, key: AssetKey) -> str:
    # The stream job's multi-assets cannot be split: the whole job is the bronze step. A quarantine
    # table is written with its silver table (one multi-asset), the data-quality counts after them.
    if job == STREAM_JOB:
        return "bronze"
    return "silver" if key.path[0] == "quarantine" else key.path[0]


def run_jobs(defs: Definitions, instance: DagsterInstance, log: Callable[[str], None] = print,
             layers: tuple[str, ...] | None = None,
             on_step: Callable[[StepResult], None] | None = None,
             landing: Path | None = None, force: bool = False,
             jobs: tuple[str, ...] | None = None) -> list[StepResult]:
    """Every job (or only ``jobs``), layer by layer (or only ``layers``), each over the range
    it needs now.

    Each job is planned once, at its first layer, and runs over that plan in every later layer.
    With ``landing``, a job whose landed input (files, billing months, the event listing) is
    the one its assets were last built from is skipped, unless ``force``. ``on_step`` sees each
    step as it ends (the pipeline benchmark reads its counters there)."""
    relax_sqlite_durability()
    steps: list[StepResult] = []
    touched: set[str] = set()
    plans: dict[str, ranges.Plan | None] = {}
    for stage in STAGES:
        if layers is not None and stage not in layers:
            continue
        for job in ORDER:
            if jobs is not None and job not in jobs:
                continue
            keys = [k for k in JOB_KEYS[job] if stage_of(job, k) == stage]
            if not keys:
                continue
            if job not in plans:
                planned = plan(job, JOB_KEYS[job], instance, touched)
                if planned is not None and landing is not None:
                    planned = skip_unchanged(instance, planned, _selected(job, layers), landing, log, force)
                plans[job] = planned
            planned = plans[job]
            if planned is None:
                log(f"{job} ({stage}): nothing to rebuild")
                continue
            if job == STREAM_JOB:
                instance.add_dynamic_partitions(stream_runs.name, [planned.partition_key])
            step = run_job(defs, planned, instance, selection=keys, log=log, name=f"{stage}: {planned.label}",
                           tags={inputs.TAG: planned.inputs} if planned.inputs else None)
            steps.append(step)
            if on_step is not None:
                on_step(step)
            touched |= set(step.materializations.get("bronze/usage_events", {}).get("dates_touched") or [])
    if layers is None or "gold" in layers:
        steps += run_follow_ups(defs, instance, plans, log, on_step, jobs)
    return steps


def run_follow_ups(defs: Definitions, instance: DagsterInstance, plans: dict[str, ranges.Plan | None],
                   log: Callable[[str], None], on_step: Callable[[StepResult], None] | None,
                   jobs: tuple[str, ...] | None = None) -> list[StepResult]:
    """What the refresh this call ran leaves stale (``ranges.follow_ups``), the runs the refresh
    follow-up sensor launches in ``dagster dev``, minus what this call rebuilt after the refresh's
    silver anyway (a job planned over the same partitions: its gold and serving run after them)
    and jobs outside ``jobs``."""
    refresh = plans.get(REFRESH_JOB)
    if refresh is None:
        return []
    ever, _ = touched_dates(instance)
    steps = []
    todo = ranges.follow_ups(refresh.partition_range, ever, billing_monthly.get_partition_keys(),
                             newest_snapshot(instance))
    for follow in todo:
        done = plans.get(follow.job)
        if jobs is not None and follow.job not in jobs:
            continue
        if (done is not None and done.partition_range and done.partition_range[0] <= follow.partition_range[0]
                and follow.partition_range[1] <= done.partition_range[1]):
            continue
        if done is not None and done.partition_key is not None and follow.partition_range == (done.partition_key,) * 2:
            continue
        step = run_job(defs, follow, instance, selection=list(follow.selection) or None, log=log,
                       name=f"follow-up: {follow.label}", tags=FOLLOW_UP_TAGS)
        steps.append(step)
        if on_step is not None:
            on_step(step)
    return steps


def _selected(job: str, layers: tuple[str, ...] | None) -> list[AssetKey]:
    return [k for k in JOB_KEYS[job] if layers is None or stage_of(job, k) in layers]


def print_summary(steps: list[StepResult], log: Callable[[str], None] = print) -> None:
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
