"""What a silver builder gets: the rows it conforms, the lake, the run's window and the pepper.

A silver table's ``build`` (in ``specs.py``) is a function of ``SilverInputs``. Dagster-free,
so the data dictionary can run every builder on empty frames. The pepper is a secret handed in
by the asset from the ``quality`` resource; it is never read here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from pyspark.sql import DataFrame

from cloud_analytics.lib.lake import LakeReader


@dataclass(frozen=True)
class SilverInputs:
    # A table conformed from bronze: the window's bronze rows its quality rules kept (bronze
    # columns + dq_flags). A history: every stored snapshot of its source up to the run's day.
    rows: DataFrame
    lake: LakeReader
    start: date | None = None
    end: date | None = None
    pepper: str = field(default="", repr=False)  # the PII key (users only)
