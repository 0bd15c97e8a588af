"""Reading a committed artifact version: streaming, never the whole thing unless asked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from storage.filesystem import ObjectStore
from storage.integrity import DamagedArtifact
from storage.manifest import ArtifactRef, Manifest


@dataclass
class Artifact:
    manifest: Manifest
    objects: ObjectStore
    version_key: str

    @property
    def ref(self) -> ArtifactRef:
        """A pointer to this version (name, fingerprint, URI) for tasks to pass around instead of the data."""
        return ArtifactRef(name=self.manifest.name, fingerprint=self.manifest.fingerprint, uri=self.objects.url(self.version_key))

    @property
    def num_rows(self) -> int:
        """Rows in the version, as its manifest records them (no data is read)."""
        return self.manifest.num_rows

    def shard_paths(self) -> list[str]:
        """Paths of the committed shard files (in shard order), for the store's arrow filesystem."""
        return [self.objects.path(f"{self.version_key}/{s.file}") for s in self.manifest.shards]

    def dataset(self) -> ds.Dataset:
        """A pyarrow dataset over exactly the shard files the manifest names (never an uncommitted file); rows are read only when it is scanned."""
        return ds.dataset(self.shard_paths(), format="parquet", filesystem=self.objects.arrow_fs)

    def lazy(self) -> pl.LazyFrame:
        """A polars LazyFrame that streams from the shards (predicates and projections pushed down)."""
        return pl.scan_pyarrow_dataset(self.dataset())

    def iter_batches(self, batch_size: int = 1024, columns: list[str] | None = None) -> Iterator[pa.RecordBatch]:
        """The version streamed as record batches of at most ``batch_size`` rows (only ``columns`` when given), never all in memory."""
        yield from self.dataset().to_batches(batch_size=batch_size, columns=columns)

    def read_shard(self, shard: int, columns: list[str] | None = None) -> pa.Table:
        """One shard, checked against its record (rows, columns) so a swapped file is named, not misread.

        On S3 the read is retried through a gateway restart (``StoreConfig.retry_for_s``).
        """
        if not 0 <= shard < len(self.manifest.shards):
            raise IndexError(f"{self.ref} has shards 0..{len(self.manifest.shards) - 1}, not {shard}")
        return self.objects.retrying_read(self.shard_paths()[shard], lambda: self._read_checked(shard, columns))

    def _read_checked(self, shard: int, columns: list[str] | None) -> pa.Table:
        record = self.manifest.shards[shard]
        where = f"{record.file} (shard {shard})"
        try:
            parquet = pq.ParquetFile(self.shard_paths()[shard], filesystem=self.objects.arrow_fs)
        except FileNotFoundError:
            raise self._damaged(f"{where} is missing") from None
        except pa.ArrowInvalid as exc:
            raise self._damaged(f"{where} cannot be read as Parquet ({exc})") from None
        expected = [f["name"] for f in self.manifest.schema_fields]
        if parquet.schema_arrow.names != expected:
            raise self._damaged(f"{where} has columns {parquet.schema_arrow.names}, the manifest records {expected}")
        if parquet.metadata.num_rows != record.rows:
            raise self._damaged(f"{where} holds {parquet.metadata.num_rows} rows, {record.rows} recorded")
        return parquet.read(columns=columns)

    def _damaged(self, problem: str) -> DamagedArtifact:
        return DamagedArtifact(self.manifest.name, self.manifest.fingerprint, [problem], self.objects.url())

    def to_table(self, columns: list[str] | None = None) -> pa.Table:
        """The whole version (or only ``columns``) as one in-memory table: only for data known to fit."""
        return self.dataset().to_table(columns=columns)

    def head(self, n: int = 5) -> pa.Table:
        """The first ``n`` rows, for a quick look without reading the whole version."""
        return self.dataset().head(n)
