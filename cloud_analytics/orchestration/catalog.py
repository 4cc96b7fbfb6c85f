"""Every table spec of the platform in data-flow order, and asset-key selections over them."""

from __future__ import annotations

from dagster import AssetKey

from cloud_analytics.bronze.specs import BRONZE_SPECS
from cloud_analytics.gold.specs import GOLD_SPECS
from cloud_analytics.lib.spec import TableSpec
from cloud_analytics.serving.specs import SERVING_SPECS
from cloud_analytics.silver.specs import DQ_SPECS, SILVER_SPECS
from cloud_analytics.speed.specs import SPEED_SPECS

ALL_SPECS: tuple[TableSpec, ...] = (*BRONZE_SPECS, *SILVER_SPECS, *DQ_SPECS, *GOLD_SPECS, *SPEED_SPECS,
                                   *SERVING_SPECS)
_UNSET = object()


def spec_keys(layer: str | None = None, partitions=_UNSET, names: tuple[str, ...] | None = None,
              exclude: tuple[str, ...] = ()) -> list[AssetKey]:
    """Asset keys of the specs matching every filter given (``partitions=None``: unpartitioned)."""
    return [AssetKey(s.key_path) for s in ALL_SPECS
            if s.asset and (layer is None or s.layer == layer)
            and (partitions is _UNSET or s.partitions == partitions)
            and (names is None or s.name in names)
            and s.name not in exclude]


def serving_of(marts: tuple[str, ...]) -> list[AssetKey]:
    """The serving tables loaded from the given gold marts."""
    return [AssetKey(s.key_path) for s in SERVING_SPECS if getattr(s, "mart", None) in marts]


def is_partitioned(key: AssetKey) -> bool:
    return next(s.partitions is not None for s in ALL_SPECS if s.key_path == list(key.path))
