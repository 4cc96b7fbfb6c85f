"""Where the lake's tables live: the asset key path under the lake root.

Local paths by default; the same code runs on ``s3a://`` or ``abfss://`` roots since Spark
resolves them (give the root as a URI in CLOUD_ANALYTICS_LAKE).
"""

from __future__ import annotations

from dagster import ConfigurableResource

from cloud_analytics.config import Settings
from cloud_analytics.lib.lake import checkpoint_path, table_path


class LakeResource(ConfigurableResource):
    """Paths of the medallion lake."""

    root: str
    landing: str

    @classmethod
    def from_settings(cls, settings: Settings) -> "LakeResource":
        return cls(root=str(settings.lake), landing=str(settings.landing))

    def table(self, layer: str, name: str) -> str:
        """The Delta table of ``AssetKey([layer, name])``."""
        return table_path(self.root, layer, name)

    def checkpoint(self, name: str) -> str:
        return checkpoint_path(self.root, name)

    def landing_path(self, *parts: str) -> str:
        return "/".join([self.landing.rstrip("/"), *parts])

    def relative_to_lake(self, path: str) -> str:
        """A source path as stored in ``source_file``: relative to the lake root when inside it."""
        plain = path.removeprefix("file://")
        root = self.root.rstrip("/") + "/"
        return plain[len(root):] if plain.startswith(root) else plain
