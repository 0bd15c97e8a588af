"""Reading a committed artifact version: streaming, never the whole thing unless asked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds

from storage.filesystem import ObjectStore
from storage.manifest import ArtifactRef, Manifest


@dataclass
class Artifact:
    manifest: Manifest
    objects: ObjectStore
    version_key: str

    @property
    def ref(self) -> ArtifactRef:
        return ArtifactRef(name=self.manifest.name, fingerprint=self.manifest.fingerprint, uri=self.objects.url(self.version_key))

    @property
    def num_rows(self) -> int:
        return self.manifest.num_rows

    def shard_paths(self) -> list[str]:
        """Paths of the committed shard files (in shard order), for the store's arrow filesystem."""
        return [self.objects.path(f"{self.version_key}/{s.file}") for s in self.manifest.shards]

    def dataset(self) -> ds.Dataset:
        return ds.dataset(self.shard_paths(), format="parquet", filesystem=self.objects.arrow_fs)

    def lazy(self) -> pl.LazyFrame:
        """A polars LazyFrame that streams from the shards (predicates and projections pushed down)."""
        return pl.scan_pyarrow_dataset(self.dataset())

    def iter_batches(self, batch_size: int = 1024, columns: list[str] | None = None) -> Iterator[pa.RecordBatch]:
        yield from self.dataset().to_batches(batch_size=batch_size, columns=columns)

    def read_shard(self, shard: int, columns: list[str] | None = None) -> pa.Table:
        return ds.dataset(self.shard_paths()[shard], format="parquet", filesystem=self.objects.arrow_fs).to_table(columns=columns)

    def to_table(self, columns: list[str] | None = None) -> pa.Table:
        return self.dataset().to_table(columns=columns)

    def head(self, n: int = 5) -> pa.Table:
        return self.dataset().head(n)
