"""``cloud-analytics run`` (what ``make run`` calls): the whole pipeline, end to end.

1. landing: generate the default dataset only if the landing folder is empty;
2. serving: start the local Cassandra node unless one runs (or a remote target or a cluster is set);
3. materialize every layer with Dagster, in the persistent DAGSTER_HOME instance so the
   runs show up in ``dagster dev``;
4. print a short summary and the dashboard queries for one org;
5. audit the result (``audit.py``): the exit status is non-zero when a conservation law fails.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from cloud_analytics.config import Settings


def landing_is_empty(landing: Path) -> bool:
    return not landing.exists() or not any(p for p in landing.rglob("*") if p.is_file() and p.name != "README.md")


def ensure_landing(settings: Settings, scale: int, seed: int, log=print) -> None:
    from cloud_analytics.landing.generator import generate

    if landing_is_empty(settings.landing):
        started = time.monotonic()
        counts = generate(settings.landing, scale=scale, seed=seed)
        log(f"landing: generated {sum(counts.values()):,} records (scale {scale}, seed {seed}) "
            f"in {time.monotonic() - started:.1f} s into {settings.landing}")
    else:
        log(f"landing: using the data already in {settings.landing}")


def ensure_cassandra(settings: Settings, log=print) -> None:
    from cloud_analytics.serving.local_node import LocalNode

    # One loopback host is the local node; several are a cluster (`cloud-analytics cluster`) that
    # runs on its own.
    local = (len(settings.cassandra_hosts) == 1 and settings.cassandra_hosts[0] in ("127.0.0.1", "localhost")
             and not settings.astra_secure_bundle)
    if not local:
        log(f"serving: using Cassandra at {', '.join(settings.cassandra_hosts)}:{settings.cassandra_port}")
        return
    LocalNode.from_settings(settings).start(timeout_s=settings.cassandra_start_timeout_s, log=log)


def materialize_all(settings: Settings, instance=None, log=print, layers: tuple[str, ...] | None = None,
                    on_step=None, force: bool = False, jobs: tuple[str, ...] | None = None) -> list:
    """Every named job (or only ``jobs``) over the range it needs now, layer by layer
    (``orchestration.runner``), with definitions built from ``settings``; runs go to
    ``instance`` (default DAGSTER_HOME). What was already built from the same landed content
    is skipped unless ``force``."""
    from cloud_analytics.definitions import build_definitions
    from cloud_analytics.orchestration.runner import get_instance, run_jobs

    return run_jobs(build_definitions(settings), instance or get_instance(), log=log, layers=layers, on_step=on_step,
                    landing=settings.landing, force=force, jobs=jobs)


def run_pipeline(settings: Settings, scale: int = 1, seed: int = 42, log=print,
                 query: Callable[[list[str]], int] | None = None, force: bool = False,
                 layers: tuple[str, ...] | None = None) -> int:
    """``query`` prints one dashboard query (the CLI passes its own ``query`` command); ``layers``:
    build only those (default: all)."""
    started = time.monotonic()
    ensure_landing(settings, scale, seed, log)
    ensure_cassandra(settings, log)
    from cloud_analytics.orchestration.runner import print_summary

    results = materialize_all(settings, log=log, force=force, layers=layers)
    print_summary(results, log=log)
    if query is not None:
        show_queries(settings, query, log=log)
    status = audit(settings, log=log)
    log(f"done in {time.monotonic() - started:.0f} s")
    return status


def audit(settings: Settings, log=print) -> int:
    """The run ends with `cloud-analytics audit`: every conservation law, landing to Cassandra.
    Returns the exit status: 0 when every law holds, 2 otherwise."""
    from cloud_analytics.audit import run_audit

    report = run_audit(settings)
    log("")
    log("$ cloud-analytics audit")
    log(report.render())
    return 0 if report.ok else 2


def example_org(settings: Settings) -> str | None:
    """An org that has GenAI usage, so every query has something to show."""
    from pyspark.sql import functions as F

    from cloud_analytics.lib.lake import table_path
    from cloud_analytics.resources.spark import get_spark

    spark = get_spark(settings)
    genai = spark.read.format("delta").load(table_path(str(settings.lake), "gold", "genai_tokens_by_org_date"))
    row = genai.groupBy("org_id").agg(F.sum("genai_tokens").alias("t")).orderBy(F.desc("t"), "org_id").first()
    return row["org_id"] if row else None


def show_queries(settings: Settings, query: Callable[[list[str]], int], log=print) -> None:
    """The five dashboard queries for one org, as `cloud-analytics query` prints them."""
    org = example_org(settings)
    if org is None:
        log("queries: no GenAI usage in gold, skipping the examples")
        return
    for args in (["q1", "--org", org, "--days", "3"], ["q2", "--org", org], ["q3", "--org", org],
                 ["q4", "--org", org], ["q5", "--org", org, "--days", "7"]):
        log(f"\n$ cloud-analytics query {' '.join(args)}")
        query(args)
