"""The cost anomaly mart: one row per (org_id, date, service) with its daily cost, its baseline,
the score of each outlier method, the methods that fire and the combined verdict.

Statistics come from ``history`` (every daily cost of every org+service, all dates), never from
the output ``window``: a day's scores and flags are the same whether the mart is built for that
day alone or for the whole range.

Baseline: the median of the org+service's daily costs over its WHOLE history (the days with at
least one event; a day without events has no daily cost and no row). The three methods, their
thresholds and the ≥ 2-of-3 vote are those of ``silver.anomaly.add_anomaly_flags`` (reused for
the flags) with the org+service as the group:

- ``zscore`` = (x − mean) / sample stddev; fires when |z| > 3 (null score when stddev is 0/null)
- ``robust_z`` = 0.6745 (x − median) / MAD, or (x − median) / (1.253314 × mean |x − median|)
  when MAD = 0; fires when |robust_z| > 3.5
- ``percentile_ratio`` = x / p99; fires when x > 1.5 × p99 (ratio > 1.5 when p99 > 0)

Whole-history statistics (rather than a trailing 28 days) make every day comparable with one
baseline per series and keep the job one aggregate per group; a new day can move the baseline,
so the mart for older days is rebuilt when history grows (it is small: one row per org, service
and day).
"""

from __future__ import annotations

from datetime import date

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from cloud_analytics.gold import columns as C
from cloud_analytics.gold.common import cents, contract, sum_exact
from cloud_analytics.silver import anomaly as A

GROUPS = ["org_id", "service"]
VALUE = "daily_cost_usd_exact"
METHODS = {"zscore": A.ZSCORE_COL, "robust_z": A.ROBUST_COL, "percentile": A.PERCENTILE_COL}


def daily_costs(events: DataFrame) -> DataFrame:
    """Silver usage_events → the history frame: org_id, date, service, daily_cost_usd_exact."""
    return events.groupBy("org_id", F.col("event_date").alias("date"), "service").agg(
        sum_exact("cost_usd_increment").alias(VALUE))


def daily_costs_from_usage_mart(org_daily_usage: DataFrame) -> DataFrame:
    """The same history frame from the ``org_daily_usage_by_service`` mart (cheaper to read)."""
    return org_daily_usage.select("org_id", F.col("usage_date").alias("date"), "service", VALUE)


def _statistics(history: DataFrame) -> DataFrame:
    """Per org+service: the same statistics ``add_anomaly_flags`` computes, kept for the scores."""
    v = F.col(VALUE).try_cast("double")
    base = history.select(*GROUPS, v.alias("_v"))
    stats = base.groupBy(*GROUPS).agg(
        F.count("_v").alias("baseline_days"),
        F.avg("_v").alias("baseline_mean_usd"), F.stddev_samp("_v").alias("baseline_stddev_usd"),
        F.percentile_approx("_v", 0.5, A.PERCENTILE_ACCURACY).alias("baseline_median"),
        F.percentile_approx("_v", A.PERCENTILE, A.PERCENTILE_ACCURACY).alias("baseline_p99_usd"))
    deviation = F.abs(F.col("_v") - F.col("baseline_median"))
    spread = base.join(stats.select(*GROUPS, "baseline_median"), GROUPS).groupBy(*GROUPS).agg(
        F.percentile_approx(deviation, 0.5, A.PERCENTILE_ACCURACY).alias("_mad"),
        F.avg(deviation).alias("_meanad"))
    return stats.join(spread, GROUPS)


def cost_anomaly_mart(history: DataFrame, window: tuple[date, date] | None = None) -> DataFrame:
    """``history`` (org_id, date, service, daily_cost_usd_exact: all dates, see ``daily_costs``)
    → ``cost_anomaly_mart`` rows for the dates in ``window`` (inclusive; None = all dates)."""
    rows = history
    if window is not None:
        rows = history.filter(F.col("date").between(F.lit(window[0]), F.lit(window[1])))
    flagged = A.add_anomaly_flags(rows, GROUPS, VALUE, baseline=history)
    x = F.col(VALUE).try_cast("double")
    diff = x - F.col("baseline_median")
    scored = flagged.join(F.broadcast(_statistics(history)), GROUPS, "left").withColumns({
        "zscore": F.when(F.col("baseline_stddev_usd") > 0,
                         (x - F.col("baseline_mean_usd")) / F.col("baseline_stddev_usd")),
        "robust_z": F.when(F.col("_mad") > 0, A.MAD_SCALE * diff / F.col("_mad"))
        .when(F.col("_meanad") > 0, diff / (A.MEAN_AD_SCALE * F.col("_meanad"))),
        "percentile_ratio": F.when(F.col("baseline_p99_usd") > 0, x / F.col("baseline_p99_usd")),
    })
    fired = F.array_compact(F.array(*[F.when(F.col(col), F.lit(name)) for name, col in METHODS.items()]))
    out = scored.withColumns({
        "daily_cost_usd": cents(F.col(VALUE)),
        "baseline_cost_usd": F.col("baseline_median"),
        "methods_fired": fired,
        "zscore_fired": F.col(A.ZSCORE_COL),
        "robust_z_fired": F.col(A.ROBUST_COL),
        "percentile_fired": F.col(A.PERCENTILE_COL),
    })
    return contract(out, C.COST_ANOMALY_MART)
