"""Outlier detection by three methods, each a reusable function over (df, groups, value).

Silver applies them to event costs per service + metric; gold reuses them on daily costs.
Each function adds one boolean column (false when the value is null or the group's spread
is zero) and leaves the rows otherwise untouched. Group statistics are native aggregates
(``avg``, ``stddev_samp``, ``percentile_approx``) per group, joined back with a broadcast
(a handful of groups), so the series is never collected to the driver.

- z-score: |x − mean| / stddev > 3. Sensitive to the outliers it hunts (they inflate the
  stddev), so it finds only the grossest ones on heavy-tailed costs.
- robust z-score (Iglewicz–Hoaglin): |0.6745 (x − median) / MAD| > 3.5, MAD = median |x −
  median|. When more than half the values equal the median the MAD is 0; the standard
  fallback then divides (x − median) by 1.253314 × mean absolute deviation.
- percentile: x > p99 × 1.5 (p99 by ``percentile_approx``).

``is_anomaly`` needs at least ``MIN_VOTES`` of the three methods to agree: one method alone
is noisy on skewed money series (the robust score alone flags a long but legitimate tail).
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

Z_THRESHOLD = 3.0
MAD_THRESHOLD = 3.5
MAD_SCALE = 0.6745  # Φ⁻¹(0.75): makes the MAD a consistent estimator of the stddev
MEAN_AD_SCALE = 1.253314  # √(π/2): the same for the mean absolute deviation (MAD = 0 fallback)
PERCENTILE = 0.99
PERCENTILE_FACTOR = 1.5
PERCENTILE_ACCURACY = 10000  # percentile_approx default: relative error 1/10000
MIN_VOTES = 2

ZSCORE_COL, ROBUST_COL, PERCENTILE_COL = "anomaly_zscore", "anomaly_robust_z", "anomaly_percentile"


def _join_stats(df: DataFrame, stats: DataFrame, groups: Sequence[str]) -> DataFrame:
    """Left-join per-group statistics back; null group values match each other."""
    if not groups:
        return df.crossJoin(F.broadcast(stats))
    renamed = stats.select(*[F.col(g).alias(f"_g_{g}") for g in groups],
                           *[c for c in stats.columns if c not in groups])
    on = [df[g].eqNullSafe(renamed[f"_g_{g}"]) for g in groups]
    return df.join(F.broadcast(renamed), on=on, how="left").drop(*[f"_g_{g}" for g in groups])


def _flag(condition: Column) -> Column:
    return F.coalesce(condition, F.lit(False))


def _with_stats(df: DataFrame, groups: Sequence[str], *aggs: Column) -> DataFrame:
    return _join_stats(df, df.groupBy(*groups).agg(*aggs), groups)


def _mean_std() -> list[Column]:
    return [F.avg("_v").alias("_z_mean"), F.stddev_samp("_v").alias("_z_std")]


def _median() -> list[Column]:
    return [F.percentile_approx("_v", 0.5, PERCENTILE_ACCURACY).alias("_r_median")]


def _cut(percentile: float) -> list[Column]:
    return [F.percentile_approx("_v", percentile, PERCENTILE_ACCURACY).alias("_p_cut")]


def _with_spread(df: DataFrame, groups: Sequence[str]) -> DataFrame:
    """Needs ``_r_median``; adds ``_r_mad`` (median |x − median|) and ``_r_meanad``."""
    deviation = F.abs(F.col("_v") - F.col("_r_median"))
    spread = df.groupBy(*groups).agg(
        F.percentile_approx(deviation, 0.5, PERCENTILE_ACCURACY).alias("_r_mad"),
        F.avg(deviation).alias("_r_meanad"))
    return _join_stats(df, spread, groups)


def _z_rule(threshold: float) -> Column:
    z = (F.col("_v") - F.col("_z_mean")) / F.col("_z_std")
    return _flag((F.col("_z_std") > 0) & (F.abs(z) > threshold))


def _robust_rule(threshold: float) -> Column:
    diff = F.col("_v") - F.col("_r_median")
    score = (F.when(F.col("_r_mad") > 0, MAD_SCALE * diff / F.col("_r_mad"))
             .when(F.col("_r_meanad") > 0, diff / (MEAN_AD_SCALE * F.col("_r_meanad"))))
    return _flag(F.abs(score) > threshold)


def _percentile_rule(factor: float) -> Column:
    return _flag(F.col("_v") > F.col("_p_cut") * factor)


_STATS = ["_v", "_z_mean", "_z_std", "_r_median", "_r_mad", "_r_meanad", "_p_cut"]


def _done(df: DataFrame) -> DataFrame:
    return df.drop(*[c for c in _STATS if c in df.columns])


def _value(df: DataFrame, value: str) -> DataFrame:
    return df.withColumn("_v", F.col(value).try_cast("double"))


def zscore_flag(df: DataFrame, groups: Sequence[str], value: str,
                threshold: float = Z_THRESHOLD, out: str = ZSCORE_COL) -> DataFrame:
    """Add ``out``: |z| > threshold, z over the group's mean and sample stddev."""
    df = _with_stats(_value(df, value), groups, *_mean_std())
    return _done(df.withColumn(out, _z_rule(threshold)))


def robust_zscore_flag(df: DataFrame, groups: Sequence[str], value: str,
                       threshold: float = MAD_THRESHOLD, out: str = ROBUST_COL) -> DataFrame:
    """Add ``out``: |0.6745 (x − median) / MAD| > threshold (mean-AD fallback when MAD = 0)."""
    df = _with_spread(_with_stats(_value(df, value), groups, *_median()), groups)
    return _done(df.withColumn(out, _robust_rule(threshold)))


def percentile_flag(df: DataFrame, groups: Sequence[str], value: str, percentile: float = PERCENTILE,
                    factor: float = PERCENTILE_FACTOR, out: str = PERCENTILE_COL) -> DataFrame:
    """Add ``out``: x > (the group's ``percentile``) × factor."""
    df = _with_stats(_value(df, value), groups, *_cut(percentile))
    return _done(df.withColumn(out, _percentile_rule(factor)))


def add_anomaly_flags(df: DataFrame, groups: Sequence[str], value: str, prefix: str = "",
                      min_votes: int = MIN_VOTES, baseline: DataFrame | None = None) -> DataFrame:
    """All three method columns (``<prefix>anomaly_zscore`` …), ``<prefix>anomaly_votes`` and
    ``<prefix>is_anomaly`` (votes ≥ ``min_votes``), with the default thresholds.

    Statistics come from ``baseline`` (default: ``df`` itself). Pass the whole history as the
    baseline when ``df`` is one partition window, so a day's flags do not depend on which
    days happened to be materialized in the same run.
    """
    names = [prefix + ZSCORE_COL, prefix + ROBUST_COL, prefix + PERCENTILE_COL]
    base = _value(baseline if baseline is not None else df, value)
    stats = base.groupBy(*groups).agg(*_mean_std(), *_median(), *_cut(PERCENTILE))
    deviation = F.abs(F.col("_v") - F.col("_r_median"))
    spread = _join_stats(base, stats, groups).groupBy(*groups).agg(
        F.percentile_approx(deviation, 0.5, PERCENTILE_ACCURACY).alias("_r_mad"),
        F.avg(deviation).alias("_r_meanad"))
    all_stats = stats.join(spread, on=list(groups), how="left") if groups else stats.crossJoin(spread)
    df = _join_stats(_value(df, value), all_stats, groups).withColumns({
        names[0]: _z_rule(Z_THRESHOLD),
        names[1]: _robust_rule(MAD_THRESHOLD),
        names[2]: _percentile_rule(PERCENTILE_FACTOR),
    })
    votes = F.col(names[0]).cast("int") + F.col(names[1]).cast("int") + F.col(names[2]).cast("int")
    return _done(df).withColumn(prefix + "anomaly_votes", votes).withColumn(
        prefix + "is_anomaly", F.col(prefix + "anomaly_votes") >= min_votes)
