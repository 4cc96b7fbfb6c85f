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

Range = tuple[str, str]


@dataclass(frozen=True)
class Plan:
    """One run of a named job: a single partition, a range, or no partitions at all."""

    job: str
    partition_key: str | None = None
    partition_range: Range | None = None
    inputs: str = ""  # fingerprints of the landed input, tagged on the run (``orchestration.inputs``)

    @property
    def label(self) -> str:
        if self.partition_range:
            first, last = self.partition_range
            return f"{self.job} {first}" if first == last else f"{self.job} {first}..{last}"
        return f"{self.job} {self.partition_key}" if self.partition_key else self.job


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
