"""The one lake reader: where a table lives under the lake root, and reading it.

A table's path is its asset key path under the root (``<root>/<layer>/<name>``) whatever the
root is (a local folder, ``s3a://bucket/prefix``); every module resolves paths here.
"""

from __future__ import annotations


def table_path(root: str, layer: str, name: str) -> str:
    return f"{str(root).rstrip('/')}/{layer}/{name}"


def checkpoint_path(root: str, name: str) -> str:
    return f"{str(root).rstrip('/')}/_checkpoints/{name}"


class LakeReader:
    """Reads Delta tables of one lake with one SparkSession; ``read`` returns None for a
    table that does not exist yet, so callers decide what absence means."""

    def __init__(self, spark, root: str):
        self.spark = spark
        self.root = str(root)

    def path(self, layer: str, name: str) -> str:
        return table_path(self.root, layer, name)

    def exists(self, layer: str, name: str) -> bool:
        from cloud_analytics.lib.delta_io import table_exists

        return table_exists(self.spark, self.path(layer, name))

    def read(self, layer: str, name: str):
        return self.spark.read.format("delta").load(self.path(layer, name)) if self.exists(layer, name) else None

    def read_pinned(self, layer: str, name: str):
        """The table at its current version, or None: re-reading the frame after the table was
        written (a check, a retry) still sees that version, unlike ``read`` which follows the
        newest one. Pinning is how a build reads the table it replaces part of."""
        from cloud_analytics.lib.delta_io import table_version

        if not self.exists(layer, name):
            return None
        path = self.path(layer, name)
        return self.spark.read.format("delta").option("versionAsOf", table_version(self.spark, path)).load(path)

    def load(self, layer: str, name: str):
        """The table, which must exist (Delta raises a clear error naming the path otherwise)."""
        return self.spark.read.format("delta").load(self.path(layer, name))
