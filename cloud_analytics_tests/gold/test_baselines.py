"""The cost baselines the speed layer scores against, on a hand-built series."""

from datetime import date, datetime

import pytest

from cloud_analytics.gold.baselines import cost_baselines
from cloud_analytics.gold.specs import GOLD_BY_NAME

EVENTS = "event_id string, event_ts timestamp, event_date date, org_id string, resource_id string, " \
         "service string, cost_usd_increment double"


def test_baselines_per_org_and_per_service(spark):
    costs = [1.0, 2.0, 3.0, 4.0, 100.0]
    silver = spark.createDataFrame([(f"e{i}", datetime(2025, 7, 1), date(2025, 7, 1), "org_a", "r", "compute", c)
                                    for i, c in enumerate(costs)], EVENTS)
    out = cost_baselines(silver)
    assert out.columns == GOLD_BY_NAME["cost_baselines"].column_names
    rows = {(r.org_id, r.service): r for r in out.collect()}
    own = rows[("org_a", "compute")]
    # median 3; |x - 3| = 2, 1, 0, 1, 97 → MAD 1, mean absolute deviation 101 / 5.
    assert (own.events, own.median_cost, own.mad_cost) == (5, 3.0, 1.0)
    assert own.mean_abs_dev_cost == pytest.approx(101 / 5)
    assert rows[("*", "compute")].median_cost == 3.0
    assert set(rows) == {("org_a", "compute"), ("*", "compute")}
