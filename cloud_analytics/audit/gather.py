"""Gathering the audit's figures from the lake: every figure is a named Spark SQL aggregate
over one table (``Aggregate``); requests over the same table, filter and grouping share one
Spark job, and a few jobs run at once (the driver plans one while another runs)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from cloud_analytics.config import ObjectStore
from cloud_analytics.lib.lake_files import LakeFiles
from cloud_analytics.lib.progress import progress

PARALLEL_JOBS = 4  # Spark jobs in flight at once: small aggregations, so planning overlaps


@dataclass(frozen=True)
class Aggregate:
    """Named aggregates (``("rows", "count(1)")``) over ``layer/table``, over the rows matching
    ``where``, grouped by the ``by`` columns.

    Its gathered value: None when the table does not exist; ``{name: value}`` without ``by``;
    ``{group: {name: value}}`` with ``by`` (the group is the column's value, or a tuple of them)."""

    layer: str
    table: str
    exprs: tuple[tuple[str, str], ...]
    by: tuple[str, ...] = ()
    where: str | None = None

    @property
    def job(self) -> tuple:
        return self.layer, self.table, self.by, self.where


def count(layer: str, table: str, by: tuple[str, ...] = ()) -> Aggregate:
    return Aggregate(layer, table, (("rows", "count(1)"),), by)


# A request is an Aggregate, or a function of the lake reader for what SQL cannot say.
Request = Aggregate | Callable[[Any], Any]


def run_parallel(tasks: dict[Any, Callable[[], Any]], workers: int = PARALLEL_JOBS,
                 desc: str = "spark jobs") -> dict[Any, Any]:
    """Run small Spark jobs from a few threads (a progress bar ``desc`` counts them on a terminal)."""
    with ThreadPoolExecutor(max_workers=workers) as pool, progress(total=len(tasks), desc=desc, unit=" jobs") as bar:
        futures = {name: pool.submit(task) for name, task in tasks.items()}
        for _done in as_completed(futures.values()):
            bar.update()
        return {name: future.result() for name, future in futures.items()}


def _job(reader, job: tuple, exprs: list[str]):
    from pyspark.sql import functions as F

    layer, table, by, where = job
    df = reader.read(layer, table)
    if df is None:
        return None
    if where:
        df = df.filter(where)
    columns = [F.expr(e).alias(f"_{i}") for i, e in enumerate(exprs)]
    if not by:
        return list(df.agg(*columns).first())
    width = len(by)
    return {(r[0] if width == 1 else tuple(r[:width])): list(r[width:])
            for r in df.groupBy(*by).agg(*columns).collect()}


def gather(reader, requests: dict[str, Request], workers: int = PARALLEL_JOBS) -> dict[str, Any]:
    """The value of every request, by name (one Spark job per table, filter and grouping)."""
    jobs: dict[tuple, list[str]] = {}
    for request in requests.values():
        if isinstance(request, Aggregate):
            exprs = jobs.setdefault(request.job, [])
            exprs += [e for _, e in request.exprs if e not in exprs]
    tasks: dict[Any, Callable[[], Any]] = {job: (lambda j=job, e=exprs: _job(reader, j, e)) for job, exprs in jobs.items()}
    tasks.update({name: (lambda r=request: r(reader)) for name, request in requests.items()
                  if not isinstance(request, Aggregate)})
    done = run_parallel(tasks, workers, desc="audit: lake aggregates")

    def pick(request: Aggregate, values: list) -> dict[str, Any]:
        order = jobs[request.job]
        return {name: values[order.index(e)] for name, e in request.exprs}

    out: dict[str, Any] = {}
    for name, request in requests.items():
        if not isinstance(request, Aggregate):
            out[name] = done[name]
            continue
        result = done[request.job]
        if result is None or not request.by:
            out[name] = None if result is None else pick(request, result)
        else:
            out[name] = {group: pick(request, values) for group, values in result.items()}
    return out


def delta_tables(lake: Path | str, layer: str, store: ObjectStore | None = None) -> list[str]:
    """Names of the Delta tables directly under ``<lake>/<layer>`` (``store``: the object store
    of an ``s3a://`` lake)."""
    return LakeFiles(str(lake), store).tables(layer)
