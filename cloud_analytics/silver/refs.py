"""The reference frames the data-quality rules of a table need (``quality.refs_for``), read
from silver: the current orgs and the resources history. Used by the silver assets and by
the speed layer, which scores the same rules on streaming events."""

from __future__ import annotations

from pyspark.sql import DataFrame

from cloud_analytics.lib.lake import LakeReader
from cloud_analytics.quality import refs_for
from cloud_analytics.silver.scd2 import current_view

# How each reference is read, by the name the rules give it.
_READERS = {
    "orgs": lambda lake: current_view(lake.load("silver", "customers_orgs_history")),
    "resources": lambda lake: lake.load("silver", "resources_history"),
}


def load_refs(lake: LakeReader, table: str) -> dict[str, DataFrame]:
    """``{"orgs": ..., "resources": ...}``, as far as ``table``'s rules need them."""
    return {name: _READERS[name](lake) for name in refs_for(table)}
