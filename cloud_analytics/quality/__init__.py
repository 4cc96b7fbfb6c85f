"""Data-quality rules as data and the Spark engine that applies them.

``rules.RULES`` is the catalog (id, table, description, severity, action, rationale and a
Column-building condition); ``engine.evaluate`` applies a table's rules and splits its rows
into kept (flagged and fixed) and quarantined; ``engine.metrics`` counts rule hits per
partition.
"""

from cloud_analytics.quality.engine import (
    METRICS_SCHEMA,
    QUARANTINE_SCHEMA,
    Evaluation,
    evaluate,
    metrics,
    metrics_summary,
)
from cloud_analytics.quality.rules import RULES, refs_for, rules_for

__all__ = [
    "METRICS_SCHEMA",
    "QUARANTINE_SCHEMA",
    "RULES",
    "Evaluation",
    "evaluate",
    "metrics",
    "metrics_summary",
    "refs_for",
    "rules_for",
]
