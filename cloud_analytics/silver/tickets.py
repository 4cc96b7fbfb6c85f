"""Silver support tickets: status, resolution time and a csat usable in averages.

Input is the ``kept`` frame of ``quality.evaluate(…, "support_tickets")`` (TK-01 already
quarantined tickets resolved before they were created, so resolution_hours is never
negative).
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from cloud_analytics.quality.domains import canonical
from cloud_analytics.quality.rules_tables import CSAT_MAX, CSAT_MIN

OPEN, RESOLVED = "open", "resolved"


def conform_tickets(kept: DataFrame) -> DataFrame:
    """Columns: ticket_id, org_id, category, severity (canonical), created_at, resolved_at,
    status (open | resolved), resolution_hours (whole days × 24: the source has dates only;
    null while open), csat, csat_valid, sla_breached, dq_flags, snapshot_date.

    ``csat_valid``: on the 1..5 scale (TK-02) *and* on a resolved ticket (TK-03); only those
    scores enter satisfaction averages.
    """
    resolved = F.col("resolved_at").isNotNull()
    return kept.select(
        "ticket_id", "org_id",
        canonical("category", "category").alias("category"),
        canonical("severity", "severity").alias("severity"),
        "created_at", "resolved_at",
        F.when(resolved, F.lit(RESOLVED)).otherwise(F.lit(OPEN)).alias("status"),
        (F.date_diff("resolved_at", "created_at") * 24.0).alias("resolution_hours"),
        "csat",
        F.coalesce(resolved & F.col("csat").between(CSAT_MIN, CSAT_MAX), F.lit(False)).alias("csat_valid"),
        "sla_breached", "dq_flags", "snapshot_date",
    )
