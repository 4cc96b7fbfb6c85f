"""The lake's files outside Delta's own reads and writes: which tables a layer holds, how many
data files a table keeps on storage, and the small marker files of the stream checkpoints.

The same calls work on a local folder and on an object store (``s3a://bucket/prefix``) through
pyarrow's filesystems: no Spark job and no JVM, so they cost milliseconds and work the same from
a Spark Connect client, whose driver is elsewhere. Nothing else in the platform touches a lake
path with local file calls.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from pyarrow import fs as pafs

from cloud_analytics.config import ObjectStore, is_uri


def s3_filesystem(store: ObjectStore, allow_bucket_creation: bool = False) -> pafs.S3FileSystem:
    """pyarrow's S3 client for ``store``: static keys and an explicit region, so the AWS SDK
    never asks an instance-metadata service (the variable below covers the SDK's other lookups)."""
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    endpoint = store.endpoint
    scheme = "https"
    if endpoint.startswith(("http://", "https://")):
        scheme, _, endpoint = endpoint.partition("://")
    return pafs.S3FileSystem(access_key=store.access_key or None, secret_key=store.secret_key or None,
                             region=store.region, endpoint_override=endpoint or None, scheme=scheme,
                             force_virtual_addressing=False, allow_bucket_creation=allow_bucket_creation)


@dataclass(frozen=True)
class LakeFiles:
    """Files under one lake root: a local folder (``store`` unused) or ``s3a://bucket/prefix``."""

    root: str
    store: ObjectStore | None = None

    @cached_property
    def _fs(self) -> pafs.FileSystem:
        if not is_uri(self.root):
            return pafs.LocalFileSystem()
        if not self.root.startswith("s3a://"):
            raise ValueError(f"lake root {self.root!r}: only local folders and s3a:// URIs are supported")
        if self.store is None:
            raise ValueError(f"lake root {self.root} is on an object store, but no endpoint and keys were given "
                             "(CLOUD_ANALYTICS_S3_ENDPOINT, _S3_ACCESS_KEY, _S3_SECRET_KEY)")
        return s3_filesystem(self.store)

    def _key(self, path: str) -> str:
        """A lake path (as Spark is given it) as the filesystem's path: no scheme."""
        path = str(path)
        if path.startswith("s3a://"):
            return path.removeprefix("s3a://")
        return str(Path(path.removeprefix("file:")))

    def _info(self, path: str) -> pafs.FileInfo:
        return self._fs.get_file_info(self._key(path))

    def is_dir(self, path: str) -> bool:
        return self._info(path).type == pafs.FileType.Directory

    def is_file(self, path: str) -> bool:
        return self._info(path).type == pafs.FileType.File

    def children(self, path: str) -> list[str]:
        """Base names of the entries directly under ``path`` (none when it does not exist)."""
        selector = pafs.FileSelector(self._key(path), allow_not_found=True, recursive=False)
        return sorted(info.base_name for info in self._fs.get_file_info(selector))

    def tables(self, layer: str) -> list[str]:
        """Names of the Delta tables directly under ``<root>/<layer>``."""
        folder = f"{self.root.rstrip('/')}/{layer}"
        return [name for name in self.children(folder) if self.is_dir(f"{folder}/{name}/_delta_log")]

    def data_files(self, table: str) -> int:
        """Parquet files of a table on storage, referenced or not (what VACUUM can shrink)."""
        selector = pafs.FileSelector(self._key(table), allow_not_found=True, recursive=True)
        return sum(1 for info in self._fs.get_file_info(selector)
                   if info.type == pafs.FileType.File and info.path.endswith(".parquet")
                   and "/_delta_log/" not in info.path)

    def read_text(self, path: str) -> str:
        with self._fs.open_input_stream(self._key(path)) as stream:
            return stream.read().decode("utf-8")

    def write_text(self, path: str, text: str) -> None:
        key = self._key(path)
        if not is_uri(self.root):
            self._fs.create_dir(str(Path(key).parent), recursive=True)
        with self._fs.open_output_stream(key) as stream:
            stream.write(text.encode("utf-8"))
