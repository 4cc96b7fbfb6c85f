"""The cost baselines the speed layer's alerts compare against, learned by the batch layer.

One row per (org_id, service) from every silver event (quality-checked, deduplicated): the
number of events, median and MAD of ``cost_usd_increment`` and the mean absolute deviation
(the fallback spread when more than half the costs equal the median). A second set of rows
with ``org_id = '*'`` (``ALL_ORGS``) holds each service's baseline over all orgs, used for an
org whose own history is too short.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from cloud_analytics.gold import columns as C
from cloud_analytics.gold.common import contract
from cloud_analytics.silver.anomaly import PERCENTILE_ACCURACY

ALL_ORGS = "*"


def _stats(events: DataFrame, groups: list[str]) -> DataFrame:
    cost = F.col("cost_usd_increment").try_cast("double")
    medians = events.groupBy(*groups).agg(
        F.count(cost).alias("events"), F.percentile_approx(cost, 0.5, PERCENTILE_ACCURACY).alias("median_cost"),
        F.percentile_approx(cost, 0.99, PERCENTILE_ACCURACY).alias("p99_cost"))
    deviation = F.abs(cost - F.col("median_cost"))
    spread = events.join(medians, groups).groupBy(*groups).agg(
        F.percentile_approx(deviation, 0.5, PERCENTILE_ACCURACY).alias("mad_cost"),
        F.avg(deviation).alias("mean_abs_dev_cost"))
    return medians.join(spread, groups)


def cost_baselines(silver_events: DataFrame) -> DataFrame:
    """Per org and service, plus per service over all orgs (``org_id = '*'``)."""
    events = silver_events.filter(F.col("cost_usd_increment").isNotNull() & F.col("service").isNotNull())
    per_org = _stats(events, ["org_id", "service"])
    per_service = _stats(events, ["service"]).withColumn("org_id", F.lit(ALL_ORGS))
    return contract(per_org, C.COST_BASELINES).unionByName(contract(per_service, C.COST_BASELINES))
