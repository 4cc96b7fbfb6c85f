"""What a gold builder gets, and the wrappers that build a run's window day by day.

A mart's ``build`` (in ``specs.py``) is a function of ``Inputs``: the lake to read silver and
gold from, and the run's inclusive day window. Dagster-free, so the data dictionary can run
every builder on empty frames (``docs_gen.empty_frame_schemas`` duck-types ``Inputs``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Callable

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from cloud_analytics.lib.lake import LakeReader
from cloud_analytics.lib.windows import date_window_predicate, days_in


@dataclass(frozen=True)
class Inputs:
    lake: LakeReader
    start: date | None = None  # None for a table rebuilt whole (no window)
    end: date | None = None

    def silver(self, table: str) -> DataFrame:
        return self.lake.load("silver", table)

    def gold(self, mart: str) -> DataFrame:
        return self.lake.load("gold", mart)

    def events(self) -> DataFrame:
        """The silver usage events of the window."""
        return self.silver("usage_events").filter(date_window_predicate("event_date", self.start, self.end))


def per_day(inputs: Inputs, build: Callable[[date], DataFrame]) -> DataFrame:
    """``build`` for every day of the window, unioned (a mart computed as of each day)."""
    frames = [build(day) for day in days_in(inputs.start, inputs.end)]
    out = frames[0]
    for frame in frames[1:]:
        out = out.unionByName(frame)
    return out


def snapshot_summary(build: Callable[[Inputs, date], DataFrame]) -> Callable[[Inputs], DataFrame]:
    """Partition D of a summary = the summary of snapshot D, stamped with ``snapshot_date``
    (appended last, unless the summary already carries it)."""
    def run(inputs: Inputs) -> DataFrame:
        def one(day: date) -> DataFrame:
            df = build(inputs, day)
            return df if "snapshot_date" in df.columns else df.withColumn("snapshot_date", F.lit(day))
        return per_day(inputs, one)
    return run
