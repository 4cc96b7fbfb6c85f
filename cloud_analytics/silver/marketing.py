"""Silver marketing touches and NPS survey answers: canonical domains, typed dates.

Inputs are the ``kept`` frames of ``quality.evaluate`` for each table.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from cloud_analytics.quality.domains import canonical
from cloud_analytics.silver.dims import nps_in_range


def conform_touches(kept: DataFrame) -> DataFrame:
    """Columns: touch_id, org_id, campaign, channel (canonical), touch_date (the source's
    ``timestamp``, a date), clicked, converted, converted_without_click, dq_flags,
    snapshot_date."""
    return kept.select(
        "touch_id", "org_id",
        canonical("campaign", "campaign").alias("campaign"),
        canonical("channel", "channel").alias("channel"),
        F.col("timestamp").try_cast("date").alias("touch_date"),
        "clicked", "converted",
        # Attribution by another path (e.g. an email read offline): worth its own column.
        (F.coalesce(F.col("converted"), F.lit(False)) & ~F.coalesce(F.col("clicked"), F.lit(False)))
        .alias("converted_without_click"),
        "dq_flags", "snapshot_date",
    )


def conform_surveys(kept: DataFrame) -> DataFrame:
    """Columns: org_id, survey_date, nps_score, nps_in_range (out-of-scale scores are excluded
    from averages), comment (trimmed free text, null when blank), dq_flags, snapshot_date."""
    return kept.select(
        "org_id", F.col("survey_date").try_cast("date").alias("survey_date"),
        "nps_score", nps_in_range().alias("nps_in_range"),
        F.nullif(F.trim("comment"), F.lit("")).alias("comment"),
        "dq_flags", "snapshot_date",
    )
