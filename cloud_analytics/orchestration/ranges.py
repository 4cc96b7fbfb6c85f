"""Which partitions a job run covers: pure functions, shared by ``make run``, the sensors and
the schedules, so every path rebuilds the same dates for the same facts.

The facts come from the Dagster instance (no Spark, no lake read): which dates each stream run
touched (``dates_touched`` metadata of ``bronze/usage_events``) and which partitions of each
asset are materialized. A range is an inclusive ``(first, last)`` pair of partition keys; a
single-run backfill policy makes it one Spark job whatever its length.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from dagster import AssetKey

from cloud_analytics.orchestration.jobs import (
    ANOMALY_KEYS, BILLING_JOB, HEALTH_JOB, RECONCILIATION_KEYS, REFRESH_JOB, SNAPSHOT_JOB, SNAPSHOT_USAGE_KEYS,
)

Range = tuple[str, str]


@dataclass(frozen=True)
class Plan:
    """One run of a named job: a single partition, a range, or no partitions at all."""

    job: str
    partition_key: str | None = None
    partition_range: Range | None = None
    inputs: str = ""  # fingerprints of the landed input, tagged on the run (``orchestration.inputs``)
    selection: tuple[AssetKey, ...] = ()  # a subset of the job's assets (empty: the whole job)

    @property
    def label(self) -> str:
        job = f"{self.job} [{', '.join(k.to_user_string() for k in self.selection)}]" if self.selection else self.job
        if self.partition_range:
            first, last = self.partition_range
            return f"{job} {first}" if first == last else f"{job} {first}..{last}"
        return f"{job} {self.partition_key}" if self.partition_key else job


def span(keys: Iterable[str]) -> Range | None:
    """The smallest range holding every key (None for none)."""
    keys = sorted(set(keys))
    return (keys[0], keys[-1]) if keys else None


def latest(partition_keys: list[str]) -> Range | None:
    """The current partition (a daily snapshot: today's file)."""
    return (partition_keys[-1], partition_keys[-1]) if partition_keys else None


def missing_and_latest(partition_keys: list[str], materialized: set[str]) -> Range | None:
    """The current partition plus any earlier one never materialized (a first run backfills
    the whole history in one run; later runs redo the current period only)."""
    todo = {k for k in partition_keys if k not in materialized}
    if partition_keys:
        todo.add(partition_keys[-1])
    return span(todo)


def dates_to_rebuild(touched: set[str], ever_touched: set[str], materialized: dict[str, set[str]]) -> Range | None:
    """The usage-derived dates to rebuild: those the new stream runs touched, plus any date a
    stream run ever touched that one of the job's assets has not materialized yet (a first run,
    or a run that stopped half-way). None when there is nothing to do."""
    todo = set(touched)
    for done in materialized.values():
        todo |= ever_touched - done
    return span(todo)


def newest_date(ever_touched: set[str]) -> Range | None:
    """customer_360 (and what derives from it) is rebuilt as of the newest event date."""
    return (max(ever_touched),) * 2 if ever_touched else None


def follow_ups(refreshed: Range | None, ever_touched: set[str], billing_months: list[str],
               snapshot_day: str | None = None) -> list[Plan]:
    """The runs a usage refresh over ``refreshed`` (event days) leaves to do, so that nothing
    derived from a touched date is stale: customer 360 (with its serving table and the cost
    baselines) as of the newest event date; the cost anomaly mart and its serving table over
    every event date, since a day's baseline is its org and service's whole history (skipped
    when the refresh covered them all); the billing reconciliation for the months holding
    refreshed days (``billing_months``: the monthly partition keys, ``YYYY-MM-01``); the
    snapshot marts that read usage, for the newest snapshot day (``snapshot_day``)."""
    if refreshed is None:
        return []
    plans = [Plan(HEALTH_JOB, partition_range=newest_date(ever_touched | set(refreshed)))]
    history = span(ever_touched | set(refreshed))
    if history != refreshed:
        plans.append(Plan(REFRESH_JOB, partition_range=history, selection=tuple(ANOMALY_KEYS)))
    first, last = refreshed[0][:7], refreshed[1][:7]
    months = [m for m in billing_months if first <= m[:7] <= last]
    if months:
        plans.append(Plan(BILLING_JOB, partition_range=(months[0], months[-1]), selection=tuple(RECONCILIATION_KEYS)))
    if snapshot_day and SNAPSHOT_USAGE_KEYS:
        plans.append(Plan(SNAPSHOT_JOB, partition_range=(snapshot_day, snapshot_day), selection=tuple(SNAPSHOT_USAGE_KEYS)))
    return plans
