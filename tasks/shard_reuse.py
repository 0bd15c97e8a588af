"""Shards copied from earlier versions when their inputs are the same: selective regeneration.

A new version of an artifact (say `selection_speech` for a selection in which only clusters 3 and
7 were redrawn) has a new fingerprint, so the version-level reuse of the stage base finds
nothing, yet most of its shards would hold exactly the rows an earlier version already holds.
A stage that can name what a shard depends on — its input rows' digest — gets a *shard key*:
a hash of that digest with the stage's name, code version, parameters and model identities (not
its parents: the parents differ, the rows do not). Each committed version records its keys in its manifest stats
(``shard_keys``); a later version looks a key up among the committed versions of the same
artifact and copies that shard (and its quarantine shard) instead of computing it.

What makes a copy safe: the key includes the code version and every parameter, the source
version is committed (its manifest exists), and the copied file's bytes are checked against the
sha256 in its manifest before they are used. Only per-shard quarantines can be copied shard by
shard; a source whose quarantine was written whole is used only when that quarantine is empty.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq

from storage import ArtifactStore, DamagedArtifact, StageSpec
from storage.fingerprint import canonical_json

SHARD_KEYS = "shard_keys"  # manifest stats: {"<shard>": key}
MAX_SOURCE_VERSIONS = 16  # the newest versions searched; older ones are rarely the same rows


def shard_key(spec: StageSpec, input_digest: str) -> str:
    """The identity of one output shard: what the stage is and does, and what it reads."""
    identity = {"stage": spec.name, "code": spec.code_version, "params": spec.params, "models": spec.models, "input": input_digest}
    return hashlib.sha256(canonical_json(identity).encode()).hexdigest()


def rows_digest(table: pa.Table | list[dict], columns: list[str]) -> str:
    """A digest of the values of `columns`, row by row, in order (input rows of one shard)."""
    rows = table.select(columns).to_pylist() if isinstance(table, pa.Table) else [{c: r.get(c) for c in columns} for r in table]
    return hashlib.sha256(canonical_json(rows).encode()).hexdigest()


@dataclass
class CopiedShard:
    source: str  # name@fingerprint:shard it came from
    rows: pa.Table
    quarantined: pa.Table | None


class ShardIndex:
    """Committed shards of earlier versions of one artifact, by shard key (read once, lazily)."""

    def __init__(self, store: ArtifactStore, spec: StageSpec, with_quarantine: bool, log):
        self.store, self.spec, self.with_quarantine, self.log = store, spec, with_quarantine, log
        self._index: dict[str, tuple[object, int]] | None = None

    def _build(self) -> dict[str, tuple[object, int]]:
        index: dict[str, tuple[object, int]] = {}
        for manifest in self.store.versions(self.spec.name)[:MAX_SOURCE_VERSIONS]:
            if manifest.fingerprint == self.spec.fingerprint:
                continue
            for shard, key in (manifest.stats.get(SHARD_KEYS) or {}).items():
                index.setdefault(key, (manifest, int(shard)))  # newest version first
        return index

    def find(self, key: str) -> CopiedShard | None:
        """The committed shard of an earlier version with shard key `key`, its bytes (and quarantine's)
        checked, or None: no such shard, no usable quarantine, or a damaged file (logged; computed instead)."""
        if self._index is None:
            self._index = self._build()
        hit = self._index.get(key)
        if hit is None:
            return None
        manifest, shard = hit
        source = f"{manifest.name}@{manifest.fingerprint}:{shard}"
        try:
            quarantined = None
            if self.with_quarantine:
                usable, quarantined = self._quarantine_shard(manifest, shard)
                if not usable:
                    return None
            return CopiedShard(source, self._read_verified(manifest, shard), quarantined)
        except (DamagedArtifact, OSError) as exc:  # the shard is computed instead; the damage is said, not hidden
            self.log.warning("%s: not copied from %s (%s); computing it", self.spec.name, source, exc)
            return None

    def _quarantine_shard(self, manifest, shard: int) -> tuple[bool, pa.Table | None]:
        """(usable, the source's quarantine shard): per-shard quarantines copy shard by shard; a
        quarantine written whole can stand for a shard only when it is empty (then None)."""
        ref = manifest.stats.get("quarantine")
        if not ref:
            return False, None
        name, fingerprint = ref.split("@")
        q = self.store.manifest(name, fingerprint)
        if len(q.shards) == len(manifest.shards):
            return True, self._read_verified(q, shard)
        return q.num_rows == 0, None

    def _read_verified(self, manifest, shard: int) -> pa.Table:
        artifact = self.store.get(f"{manifest.name}@{manifest.fingerprint}")
        record = manifest.shards[shard]
        data = artifact.objects.read_bytes(f"{artifact.version_key}/{record.file}")
        if record.sha256 is None or hashlib.sha256(data).hexdigest() != record.sha256:
            raise DamagedArtifact(
                manifest.name, manifest.fingerprint, [f"{record.file} (shard {shard}) does not match its recorded sha256"], artifact.objects.url()
            )
        return pq.read_table(io.BytesIO(data))
