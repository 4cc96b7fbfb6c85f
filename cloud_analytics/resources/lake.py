"""Where the lake's tables live: the asset key path under the lake root.

Local paths by default; the same code runs on an ``s3a://bucket/prefix`` root (Spark resolves
the tables' paths, ``files()`` lists and marks them), with the object store's endpoint and keys.
"""

from __future__ import annotations

from dagster import ConfigurableResource
from pydantic import Field

from cloud_analytics.config import ObjectStore, Settings
from cloud_analytics.lib.lake import checkpoint_path, table_path
from cloud_analytics.lib.lake_files import LakeFiles


class LakeResource(ConfigurableResource):
    """Paths of the medallion lake."""

    root: str
    landing: str
    s3_endpoint: str = ""
    s3_region: str = "us-east-1"
    s3_access_key: str = ""
    s3_secret_key: str = Field(default="", description="Pass it as EnvVar, never inline.")

    @classmethod
    def from_settings(cls, settings: Settings, secret=lambda _name, value: value) -> "LakeResource":
        """``secret(name, value)``: how a secret is passed (the definitions pass an EnvVar)."""
        return cls(root=str(settings.lake), landing=str(settings.landing), s3_endpoint=settings.s3_endpoint,
                   s3_region=settings.s3_region, s3_access_key=settings.s3_access_key,
                   s3_secret_key=secret("S3_SECRET_KEY", settings.s3_secret_key))

    def files(self) -> LakeFiles:
        """The lake's files (listing tables, checkpoint markers), local or on the object store."""
        store = ObjectStore(self.s3_endpoint, self.s3_region, self.s3_access_key, self.s3_secret_key)
        return LakeFiles(self.root, store)

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
