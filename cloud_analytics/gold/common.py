"""Conventions every mart shares: money, safe ratios, latest snapshots, the column contract.

Money. Silver event costs are doubles; gold adds them as ``decimal(18,6)`` (``EXACT``): each
cost is converted once (a double → decimal cast rounds half-up to 6 places, exact for the
source's cent values) and the sum is exact, whatever the order of addition. Rounding to cents
(``MONEY`` = ``decimal(18,2)``, half-up) happens only once, on the final aggregate; marts keep
the ``*_exact`` sum beside the rounded one, so totals reconcile with silver exactly and a
re-aggregation never adds up rounded cents. Invoice amounts are booked in cents by silver and
are summed as ``decimal(18,2)``.

Ratios use ``try_divide`` (null on a zero or null denominator: ANSI mode would throw).
Casts are ``try_cast`` (null instead of an error, never a throwing cast).
"""

from __future__ import annotations

from datetime import date

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from cloud_analytics.lib import spec

EXACT = "decimal(18,6)"
MONEY = "decimal(18,2)"
CENTS = 2


def exact(col: Column | str) -> Column:
    """A money value as ``decimal(18,6)``."""
    return F.col(col).try_cast(EXACT) if isinstance(col, str) else col.try_cast(EXACT)


def sum_exact(col: Column | str) -> Column:
    """Exact sum of money values (``decimal(18,6)``); null when there is no value."""
    return F.sum(exact(col)).try_cast(EXACT)


def cents(col: Column | str) -> Column:
    """Round a money value to cents, half-up (``decimal(18,2)``): the final step only."""
    c = F.col(col) if isinstance(col, str) else col
    return F.round(c.try_cast(EXACT), CENTS).try_cast(MONEY)


def sum_money(col: Column | str) -> Column:
    """Sum of amounts already in cents (invoices), as ``decimal(18,2)``."""
    c = F.col(col) if isinstance(col, str) else col
    return F.sum(c.try_cast(MONEY)).try_cast(MONEY)


def ratio(numerator: Column, denominator: Column) -> Column:
    """numerator / denominator as a double; null when the denominator is 0 or null."""
    return F.try_divide(numerator.try_cast("double"), denominator.try_cast("double"))


def count_if(condition: Column) -> Column:
    """Rows where ``condition`` is true (null counts as false), as a bigint (0 when none)."""
    return F.sum(F.when(condition, 1).otherwise(0)).try_cast("bigint")


def latest_snapshot(df: DataFrame, snapshot: date | None = None, col: str = "snapshot_date") -> DataFrame:
    """The rows of one snapshot: ``snapshot`` when given, else the latest one in ``df``
    (found with an aggregate joined back, so nothing is collected to the driver)."""
    if snapshot is not None:
        return df.filter(F.col(col) == F.lit(snapshot))
    latest = df.agg(F.max(col).alias("_latest_snapshot"))
    return (df.crossJoin(F.broadcast(latest)).filter(F.col(col) == F.col("_latest_snapshot"))
            .drop("_latest_snapshot"))


def merged_flags(col: str = "dq_flags") -> Column:
    """Aggregate: the distinct dq flags of a group's rows, sorted (empty when none)."""
    return F.array_sort(F.array_distinct(F.flatten(F.collect_list(
        F.coalesce(F.col(col), F.array().cast("array<string>"))))))


def contract(df: DataFrame, declared: tuple[spec.Column, ...]) -> DataFrame:
    """``df`` restricted to, and ordered as, the mart's declared columns (``gold/columns.py``)."""
    names = [c.name for c in declared]
    missing = [c for c in names if c not in df.columns]
    if missing:
        raise ValueError(f"gold mart is missing declared columns {missing}")
    return df.select(*names)
