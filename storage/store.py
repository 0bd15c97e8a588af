"""The artifact store: versioned, immutable, content-addressed Parquet artifacts with lineage.

    from storage import ArtifactStore, StageSpec
    store = ArtifactStore.open("./salad-store")            # or "s3://bucket/prefix"
    spec = StageSpec(name="corpus", params={...}, code_version="ingest-v1+ab12", parents=[])
    existing = store.find(spec)                            # a committed version, or None
    writer = store.writer(spec)                            # resumes a crashed attempt
    for i, table in enumerate(shards):
        if not writer.is_committed(i):
            writer.write_shard(i, table)
    ref = store.commit(writer, num_shards)

Layout: ``<root>/<name>/<fingerprint>/{manifest.json, shards/, data/}`` (see writer.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from storage.artifact import Artifact
from storage.code_version import git_revision
from storage.config import StoreConfig
from storage.filesystem import ObjectStore
from storage.fingerprint import fingerprint
from storage.lineage import LineageNode, downstream, upstream
from storage.manifest import MANIFEST_FILE, ArtifactRef, Manifest, scrub_secrets, validate_name
from storage.writer import ArtifactWriter


class ArtifactNotFound(LookupError):
    pass


class StageSpec(BaseModel):
    """Everything that determines an artifact version's content."""

    name: str
    params: dict[str, Any] = Field(default_factory=dict)
    code_version: str
    parents: list[ArtifactRef] = Field(default_factory=list)
    models: dict[str, str] = Field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        return fingerprint(
            validate_name(self.name),
            scrub_secrets(self.params),
            [f"{p.name}@{p.fingerprint}" for p in self.parents],
            self.code_version,
            self.models,
        )


@dataclass
class ArtifactStore:
    objects: ObjectStore
    _manifest_cache: dict[str, Manifest] = field(default_factory=dict)

    @classmethod
    def open(cls, config: StoreConfig | str | None = None) -> "ArtifactStore":
        if config is None:
            config = StoreConfig()
        elif isinstance(config, str):
            config = StoreConfig(uri=config)
        return cls(ObjectStore(config))

    @property
    def uri(self) -> str:
        return self.objects.config.uri

    # -- writing -------------------------------------------------------------------------------
    def find(self, spec: StageSpec) -> ArtifactRef | None:
        """The committed version for this spec, if any: the reuse check before any work."""
        key = f"{spec.name}/{spec.fingerprint}"
        if not self.objects.exists(f"{key}/{MANIFEST_FILE}"):
            return None
        return ArtifactRef(name=spec.name, fingerprint=spec.fingerprint, uri=self.objects.url(key))

    def writer(self, spec: StageSpec, run_context: dict[str, str] | None = None) -> ArtifactWriter:
        for parent in spec.parents:
            if not self.objects.exists(f"{parent.name}/{parent.fingerprint}/{MANIFEST_FILE}"):
                raise ArtifactNotFound(f"parent {parent} of {spec.name!r} is not a committed artifact in {self.uri}")
        fields = dict(
            name=spec.name,
            fingerprint=spec.fingerprint,
            parents=[ArtifactRef(name=p.name, fingerprint=p.fingerprint) for p in spec.parents],
            params=scrub_secrets(spec.params),
            code_version=spec.code_version,
            models=spec.models,
            run_context={k: str(v) for k, v in (run_context or {}).items() if v is not None},
            **git_revision(),
        )
        return ArtifactWriter(self.objects, f"{spec.name}/{spec.fingerprint}", fields)

    def commit(self, writer: ArtifactWriter, num_shards: int, stats: dict[str, Any] | None = None) -> ArtifactRef:
        manifest = writer.commit(num_shards, stats)
        self._manifest_cache[f"{manifest.name}/{manifest.fingerprint}"] = manifest
        return writer.ref(manifest)

    # -- reading -------------------------------------------------------------------------------
    def manifest(self, name: str, fingerprint: str) -> Manifest:
        key = f"{name}/{fingerprint}"
        if key not in self._manifest_cache:
            try:
                data = self.objects.read_json(f"{key}/{MANIFEST_FILE}")
            except FileNotFoundError:
                raise ArtifactNotFound(f"no committed version {name}@{fingerprint} in {self.uri}") from None
            self._manifest_cache[key] = Manifest.model_validate(data)
        return self._manifest_cache[key]

    def get(self, ref: ArtifactRef | str) -> Artifact:
        """A committed version: ``name`` (newest), ``name@fingerprint`` (a fingerprint prefix works) or a ref."""
        name, fp = self.resolve(ref)
        return Artifact(self.manifest(name, fp), self.objects, f"{name}/{fp}")

    def resolve(self, ref: ArtifactRef | str) -> tuple[str, str]:
        if isinstance(ref, ArtifactRef):
            return ref.name, ref.fingerprint
        name, _, fp = ref.partition("@")
        versions = self.versions(name)
        if not versions:
            raise ArtifactNotFound(f"no committed versions of {name!r} in {self.uri}")
        if not fp:
            return name, versions[0].fingerprint
        matches = [m.fingerprint for m in versions if m.fingerprint.startswith(fp)]
        if len(matches) != 1:
            what = "no" if not matches else "several"
            raise ArtifactNotFound(f"{what} versions of {name!r} match fingerprint {fp!r}")
        return name, matches[0]

    def names(self) -> list[str]:
        return sorted({k.split("/", 1)[0] for k in self.objects.glob(f"*/*/{MANIFEST_FILE}")})

    def versions(self, name: str) -> list[Manifest]:
        """Committed versions of ``name``, newest first."""
        fps = [k.split("/")[1] for k in self.objects.glob(f"{validate_name(name)}/*/{MANIFEST_FILE}")]
        return sorted((self.manifest(name, fp) for fp in fps), key=lambda m: m.created_at, reverse=True)

    def all_manifests(self) -> list[Manifest]:
        return [self.manifest(*k.split("/")[:2]) for k in self.objects.glob(f"*/*/{MANIFEST_FILE}")]

    # -- lineage -------------------------------------------------------------------------------
    def upstream(self, ref: ArtifactRef | str) -> LineageNode:
        name, fp = self.resolve(ref)
        return upstream(self.manifest, name, fp)

    def downstream(self, ref: ArtifactRef | str) -> list[LineageNode]:
        name, fp = self.resolve(ref)
        return downstream(self.all_manifests(), name, fp)

    # -- housekeeping --------------------------------------------------------------------------
    def gc(self, grace_seconds: float = 3600.0) -> list[str]:
        """Remove uncommitted leftovers older than ``grace_seconds`` (a live writer's files are younger).

        Leftovers are data files no shard record names, in committed versions, and whole version
        folders that never got a manifest. Committed data is never touched.
        """
        cutoff = time.time() - grace_seconds
        removed: list[str] = []
        for version_key in self.objects.glob("*/*"):
            if self.objects.exists(f"{version_key}/{MANIFEST_FILE}"):
                manifest = self.manifest(*version_key.split("/"))
                keep = {f"{version_key}/{s.file}" for s in manifest.shards}
                stale = [k for k in self.objects.glob(f"{version_key}/data/*") if k not in keep]
            else:
                stale = [k for k in self.objects.glob(f"{version_key}/*/*")]
            for key in stale:
                if self.objects.modified(key) < cutoff:
                    self.objects.delete(key)
                    removed.append(key)
        return removed
