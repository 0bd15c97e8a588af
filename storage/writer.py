"""Writing one artifact version, shard by shard, so that crashes lose nothing finished.

Layout of a version folder::

    <name>/<fingerprint>/
        data/<shard>-<attempt>.parquet   # written by an attempt; invisible until committed
        shards/<shard>.json              # the shard's commit record (create-if-absent)
        manifest.json                    # the version's commit (create-if-absent), written last

A shard is committed by creating its record, which names the attempt's data file and carries
its size and sha256 (computed from the bytes as they are written, never re-read). Creation is
conditional, so when two writers race on one shard exactly one record wins and the loser
deletes its own file: a shard is never committed twice. "The record exists" is not "I lost":
a record PUT whose reply was lost (gateway paused, connection dropped) is retried and meets
its own first attempt, so the loser is decided by reading the record, and a file is deleted
only when the record names another attempt's file. Before the manifest is created, every file
the records name must exist with its recorded size. A writer that is killed leaves at most an
unreferenced data file, which readers never see (they read only what the manifest names) and
which the commit, or ``ArtifactStore.gc``, removes.

On S3 a shard is written to a local temporary file first and uploaded as a whole, so a failed
upload can be retried without asking the stage to produce the shard again.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import time
import uuid
from datetime import datetime, timezone
from typing import Any, Iterable

import pyarrow as pa
import pyarrow.parquet as pq

from storage.filesystem import AlreadyExists, ObjectStore
from storage.integrity import (
    DamagedArtifact,
    check_version,
    move_version_aside,
    parse_manifest,
)
from storage.lease import Lease, lease_key, live_leases
from storage.manifest import (
    MANIFEST_FILE,
    SHARD_DIGITS,
    ArtifactRef,
    Manifest,
    ShardRecord,
    shard_record_key,
)


class IncompleteArtifact(RuntimeError):
    """Commit was asked for while shards (or the files their records name) are missing."""


class _HashingSink(io.RawIOBase):
    """A write-only file that counts and hashes what passes through to ``raw``."""

    def __init__(self, raw: io.BufferedIOBase):
        super().__init__()
        self.raw, self.sha, self.size = raw, hashlib.sha256(), 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[override]
        view = memoryview(data).cast("B")
        self.raw.write(view)
        self.sha.update(view)
        self.size += view.nbytes
        return view.nbytes

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        self.raw.flush()


class ArtifactWriter:
    """Writes the shards of one version and commits it.

    Use ``ArtifactStore.writer(...)``; it returns ``None`` for versions that already exist.
    """

    def __init__(
        self,
        objects: ObjectStore,
        version_key: str,
        manifest_fields: dict[str, Any],
        compression: str = "zstd",
    ):
        self.objects = objects
        self.version_key = version_key
        self.manifest_fields = manifest_fields
        self.compression = compression
        self.attempt = uuid.uuid4().hex[:12]
        self._clock = time.perf_counter()
        self.shards_written_here: list[int] = []
        self.lease = Lease(objects, version_key, self.attempt)  # taken at the first write: gc leaves live writers alone

    def release(self) -> None:
        """Give up the lease (after the commit, or when the stage fails); safe to call twice."""
        self.lease.release()

    # -- shards ----------------------------------------------------------------------------------
    def committed_shards(self) -> set[int]:
        """Indices of the shards committed so far, by this writer or any other (one listing of the commit records)."""
        return {int(k.rsplit("/", 1)[-1].split(".")[0]) for k in self.objects.glob(f"{self.version_key}/shards/*.json")}

    def is_committed(self, shard: int) -> bool:
        """Whether shard ``shard`` has its commit record (from any writer): a resumed stage skips it."""
        return self.objects.exists(shard_record_key(self.version_key, shard))

    def write_shard(self, shard: int, data: pa.Table | Iterable[pa.RecordBatch], schema: pa.Schema | None = None) -> bool:
        """Write and commit one shard; False if another writer had already committed it."""
        if shard < 0:
            raise ValueError(f"shard index must be >= 0, got {shard}")
        data_key = f"{self.version_key}/data/{shard:0{SHARD_DIGITS}d}-{self.attempt}.parquet"
        self.lease.start()
        # Size and hash come from the bytes written, not a stat afterwards: if another writer has
        # committed this shard and the version meanwhile, its clean-up may already have removed
        # our file, and we must still reach the create-if-absent below to learn that we lost.
        rows, size, sha256 = self._write_parquet(data_key, data, schema)
        now = time.perf_counter()
        record = ShardRecord(
            shard=shard,
            file=data_key[len(self.version_key) + 1 :],
            rows=rows,
            bytes=size,
            seconds=round(now - self._clock, 6),
            sha256=sha256,
        )
        self._clock = now
        try:
            self.objects.create_json_if_absent(shard_record_key(self.version_key, shard), record.model_dump())
        except AlreadyExists:
            winner = self._read_record(shard)
            if winner is None:
                raise IncompleteArtifact(
                    f"{self.version_key}: the commit record of shard {shard} was refused as existing, then could not be read; {data_key} is kept for inspection"
                ) from None
            if winner.file != record.file:
                self.objects.delete(data_key)  # another attempt's file is the committed one
                return False
            # Our own earlier try of this PUT succeeded and only its reply was lost: the shard is ours.
        self.shards_written_here.append(shard)
        return True

    def _write_parquet(self, key: str, data: pa.Table | Iterable[pa.RecordBatch], schema: pa.Schema | None) -> tuple[int, int, str]:
        if not self.objects.config.is_s3:
            with self.objects.open_write(key) as raw:
                sink = _HashingSink(raw)
                rows = self._write_batches(sink, key, data, schema)
            return rows, sink.size, sink.sha.hexdigest()
        fd, local = tempfile.mkstemp(prefix="salad-shard-", suffix=".parquet")
        try:
            with os.fdopen(fd, "wb", buffering=8 << 20) as raw:
                sink = _HashingSink(raw)
                rows = self._write_batches(sink, key, data, schema)
            self.objects.upload_file(local, key)
        finally:
            os.unlink(local)
        return rows, sink.size, sink.sha.hexdigest()

    def _write_batches(self, sink: _HashingSink, key: str, data: pa.Table | Iterable[pa.RecordBatch], schema: pa.Schema | None) -> int:
        if isinstance(data, pa.Table):
            batches: Iterable[pa.RecordBatch] = data.to_batches()
            schema = schema or data.schema
        else:
            batches = data
        rows = 0
        writer = None
        for batch in batches:
            if writer is None:
                writer = pq.ParquetWriter(sink, schema or batch.schema, compression=self.compression)
            writer.write_batch(batch)
            rows += batch.num_rows
        if writer is None:
            if schema is None:
                raise ValueError(f"shard {key} has no rows and no schema was given")
            writer = pq.ParquetWriter(sink, schema, compression=self.compression)
        writer.close()
        sink.flush()
        return rows

    # -- commit ----------------------------------------------------------------------------------
    def commit(self, num_shards: int, stats: dict[str, Any] | None = None) -> Manifest:
        """Commit the version once shards 0..num_shards-1 are all committed.

        If another writer committed the version first, its manifest is returned: both writers
        produced the same content by construction (same fingerprint).
        """
        records = [self._read_record(i) for i in range(num_shards)]
        missing = [i for i, r in enumerate(records) if r is None]
        if missing:
            raise IncompleteArtifact(f"{self.version_key}: shards {missing[:10]} are not committed")
        extra = sorted(self.committed_shards() - set(range(num_shards)))
        if extra:
            raise IncompleteArtifact(f"{self.version_key}: shards {extra[:10]} exist beyond num_shards={num_shards}")
        shards = [r for r in records if r is not None]
        if not shards:
            raise IncompleteArtifact(f"{self.version_key}: a version needs at least one shard (it may be empty)")
        self._check_files(shards)
        schema = self.objects.read_parquet_schema(f"{self.version_key}/{shards[0].file}")
        manifest = Manifest(
            **self.manifest_fields,
            created_at=datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            num_rows=sum(s.rows for s in shards),
            num_bytes=sum(s.bytes for s in shards),
            schema_fields=[{"name": f.name, "type": str(f.type)} for f in schema],
            shards=shards,
            wall_time_s=round(sum(s.seconds for s in shards), 3),
            stats=stats or {},
        ).sealed()
        key = f"{self.version_key}/{MANIFEST_FILE}"
        try:
            self.objects.create_if_absent(key, manifest.to_json_bytes())
        except AlreadyExists:
            # Another writer's commit, or our own whose reply was lost: either way the stored one is the version.
            name, fp = self.version_key.split("/")
            manifest = parse_manifest(self.objects.read_bytes(key), name, fp, self.objects.url())
            missing = check_version(self.objects, manifest, full=False)
            if missing:
                raise DamagedArtifact(name, fp, missing, self.objects.url())
        self.remove_orphans(manifest)
        self.release()
        return manifest

    def _check_files(self, shards: list[ShardRecord]) -> None:
        """Every file a commit record names is there with its recorded size: never commit a hole."""
        sizes = self.objects.sizes(f"{self.version_key}/data")
        bad = []
        for s in shards:
            size = sizes.get(f"{self.version_key}/{s.file}")
            if size != s.bytes:
                bad.append(f"shard {s.shard}: {s.file} " + ("is missing" if size is None else f"has {size} bytes, {s.bytes} recorded"))
        if bad:
            # The records cannot be trusted, and being create-if-absent they cannot be replaced in
            # place: move the folder aside so that a re-run writes the version from scratch.
            name, fp = self.version_key.split("/")
            moved = move_version_aside(self.objects, name, fp, bad)
            raise IncompleteArtifact(
                f"{self.version_key}: not committed, files named by shard records are wrong: {'; '.join(bad[:10])}; "
                f"the folder was moved aside to {moved}, a re-run rebuilds the version from scratch"
            )

    def _read_record(self, shard: int) -> ShardRecord | None:
        try:
            return ShardRecord.model_validate(self.objects.read_json(shard_record_key(self.version_key, shard)))
        except FileNotFoundError:
            return None

    def claim(self, shard: int) -> bool:
        """Take shard `shard` to work on; False while another live writer has it (it will commit it).

        Two runs of one version (two `make demo` on one store) then share the work instead of both
        computing every shard. A claim names its writer's attempt; it counts while that attempt's
        lease is live, so a killed writer's claims are taken over. Claims only save work: the
        commit record stays what makes a shard committed exactly once.
        """
        key = f"{self.version_key}/claims/{shard:0{SHARD_DIGITS}d}.json"
        mine = json.dumps({"attempt": self.attempt}).encode()
        self.lease.start()
        try:
            self.objects.create_if_absent(key, mine)
            return True
        except AlreadyExists:
            pass
        try:
            holder = self.objects.read_json(key).get("attempt")
        except FileNotFoundError:  # released meanwhile
            holder = None
        if holder == self.attempt:
            return True
        if holder and lease_key(self.version_key, holder) in live_leases(self.objects, self.version_key):
            return False
        self.objects.write_bytes(key, mine)  # its writer is gone: take the shard over
        return True

    def remove_orphans(self, manifest: Manifest) -> list[str]:
        """Delete data files of this version that no committed shard names (crashed or losing attempts), and the claims."""
        keep = {f"{self.version_key}/{s.file}" for s in manifest.shards}
        removed = [k for k in self.objects.glob(f"{self.version_key}/data/*") if k not in keep]
        removed += self.objects.glob(f"{self.version_key}/claims/*")
        for key in removed:
            self.objects.delete(key)
        return removed

    def ref(self, manifest: Manifest) -> ArtifactRef:
        """The ref of the version ``manifest`` describes, with its URI in this store."""
        return ArtifactRef(name=manifest.name, fingerprint=manifest.fingerprint, uri=self.objects.url(self.version_key))
