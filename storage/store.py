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
A version found damaged when a stage asks to reuse it (or by ``verify(repair=True)``) is moved
to ``<name>/<fingerprint>.damaged-<utc>/`` with a ``DAMAGED.json`` saying why: out of every
listing, kept for a person to inspect, and the stage rebuilds the version.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from storage.artifact import Artifact
from storage.code_version import git_revision
from storage.config import StoreConfig
from storage.filesystem import ObjectStore
from storage.fingerprint import fingerprint
from storage.integrity import (
    DamagedArtifact,
    VerifyReport,
    VersionCheck,
    check_version,
    move_version_aside,
    parse_manifest,
)
from storage.lease import LEASE_TTL_S, live_leases
from storage.lineage import LineageNode, downstream, upstream
from storage.manifest import (
    MANIFEST_FILE,
    ArtifactRef,
    Manifest,
    scrub_secrets,
    validate_fingerprint,
    validate_name,
)
from storage.writer import ArtifactWriter

log = logging.getLogger("salad.storage")
VERSION_FOLDER = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,127}/[0-9a-f]{16}$")  # not <fp>.damaged-…, not _runs/…


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
        """The version's content address: name, parameters (secrets scrubbed), parents, code version and models."""
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
        """The store at ``config``: a StoreConfig, a URI, or None for the default (``$SALAD_STORE`` or ``./salad-store``)."""
        if config is None:
            config = StoreConfig()
        elif isinstance(config, str):
            config = StoreConfig(uri=config)
        return cls(ObjectStore(config))

    @property
    def uri(self) -> str:
        """The store's URI as configured."""
        return self.objects.config.uri

    # -- writing -------------------------------------------------------------------------------
    def find(self, spec: StageSpec) -> ArtifactRef | None:
        """The committed, intact version for this spec, if any: the reuse check before any work.

        A damaged version is never reused: it is logged (artifact, version, files), moved aside and
        None is returned, so the stage rebuilds it. How deep the check goes: ``verify_on_reuse``.
        """
        key = f"{spec.name}/{spec.fingerprint}"
        if not self.objects.exists(f"{key}/{MANIFEST_FILE}"):
            return None
        try:
            check = self._check(spec.name, spec.fingerprint, full=self.objects.config.verify_on_reuse == "hash")
        except ArtifactNotFound:
            return None  # moved aside by someone else between the two calls
        if check.status == "damaged":
            check.moved_to = self.move_aside(spec.name, spec.fingerprint, check.problems)
            log.warning("not reusing %s: %s", key, check.line())
            return None
        return ArtifactRef(name=spec.name, fingerprint=spec.fingerprint, uri=self.objects.url(key))

    def writer(self, spec: StageSpec, run_context: dict[str, str] | None = None) -> ArtifactWriter:
        """A writer for the version ``spec`` describes; ArtifactNotFound if a parent is not committed.

        The same spec always names the same version folder, so a writer started after a crash finds
        the shards committed there and need not redo them. Secrets in ``spec.params`` are scrubbed
        before they reach the manifest; ``run_context`` (orchestrator ids) is recorded in it.
        """
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
        """Commit the version ``writer`` wrote once shards 0..``num_shards``-1 are all committed; returns its ref.

        ``stats`` (stage-specific figures) go into the manifest. If another writer committed the
        version first, the stored one is what is returned.
        """
        manifest = writer.commit(num_shards, stats)
        self._manifest_cache[f"{manifest.name}/{manifest.fingerprint}"] = manifest
        return writer.ref(manifest)

    # -- reading -------------------------------------------------------------------------------
    def manifest(self, name: str, fingerprint: str) -> Manifest:
        """A committed version's manifest; DamagedArtifact if it was edited or is malformed."""
        key = f"{validate_name(name)}/{validate_fingerprint(fingerprint)}"
        if key not in self._manifest_cache:
            self._manifest_cache[key] = self._read_manifest(name, fingerprint)
        return self._manifest_cache[key]

    def _read_manifest(self, name: str, fingerprint: str) -> Manifest:
        try:
            raw = self.objects.read_bytes(f"{name}/{fingerprint}/{MANIFEST_FILE}")
        except FileNotFoundError:
            raise ArtifactNotFound(f"no committed version {name}@{fingerprint} in {self.uri}") from None
        return parse_manifest(raw, name, fingerprint, self.uri)

    def get(self, ref: ArtifactRef | str) -> Artifact:
        """A committed version: ``name`` (newest), ``name@fingerprint`` (a fingerprint prefix works) or a ref.

        Checked cheaply before it is served (every shard file there with its recorded size, the
        manifest unedited); a damaged version raises DamagedArtifact naming its files.
        """
        name, fp = self.resolve(ref)
        self._manifest_cache.pop(f"{name}/{fp}", None)  # served data is checked against the stored manifest
        manifest = self.manifest(name, fp)
        problems = check_version(self.objects, manifest, full=False)
        if problems:
            self._manifest_cache.pop(f"{name}/{fp}", None)
            raise DamagedArtifact(name, fp, problems, self.uri)
        return Artifact(manifest, self.objects, f"{name}/{fp}")

    def resolve(self, ref: ArtifactRef | str) -> tuple[str, str]:
        """The ``(name, fingerprint)`` that ``ref`` names: a ref as it is, ``name`` its newest version, ``name@prefix`` its one match.

        A name with no committed version, or a prefix that matches none or several, raises ArtifactNotFound.
        """
        if isinstance(ref, ArtifactRef):
            return validate_name(ref.name), validate_fingerprint(ref.fingerprint)
        name, _, fp = ref.partition("@")
        committed = [f for _, f in self._committed(validate_name(name))]
        if not committed:
            raise ArtifactNotFound(f"no committed versions of {name!r} in {self.uri}")
        if not fp:
            return name, self.versions(name)[0].fingerprint
        matches = [f for f in committed if f.startswith(fp)]
        if len(matches) != 1:
            what = "no" if not matches else "several"
            raise ArtifactNotFound(f"{what} versions of {name!r} match fingerprint {fp!r}")
        return name, matches[0]

    def _committed(self, pattern: str = "*") -> list[tuple[str, str]]:
        """(name, fingerprint) of committed versions (versions moved aside are not versions)."""
        keys = (k.rsplit("/", 1)[0] for k in self.objects.glob(f"{pattern}/*/{MANIFEST_FILE}"))
        return [tuple(k.split("/")) for k in keys if VERSION_FOLDER.match(k)]  # type: ignore[misc]

    def names(self) -> list[str]:
        """Names of the artifacts that have at least one committed version, sorted."""
        return sorted({name for name, _ in self._committed()})

    def versions(self, name: str) -> list[Manifest]:
        """Committed versions of ``name``, newest first."""
        found = self._committed(validate_name(name))
        return sorted((self.manifest(n, fp) for n, fp in found), key=lambda m: m.created_at, reverse=True)

    def all_manifests(self) -> list[Manifest]:
        """The manifest of every committed version in the store (what ``downstream`` scans)."""
        return [self.manifest(n, fp) for n, fp in self._committed()]

    # -- integrity -----------------------------------------------------------------------------
    def _check(self, name: str, fingerprint: str, full: bool) -> VersionCheck:
        self._manifest_cache.pop(f"{name}/{fingerprint}", None)  # re-read: it is what is being checked
        try:
            manifest = self.manifest(name, fingerprint)
            problems = check_version(self.objects, manifest, full=full)
        except DamagedArtifact as exc:
            self._manifest_cache.pop(f"{name}/{fingerprint}", None)
            return VersionCheck(name=name, fingerprint=fingerprint, status="damaged", problems=exc.problems)
        if problems:
            self._manifest_cache.pop(f"{name}/{fingerprint}", None)
            return VersionCheck(name=name, fingerprint=fingerprint, status="damaged", problems=problems)
        return VersionCheck(name=name, fingerprint=fingerprint, status="ok" if manifest.has_hashes else "unverifiable")

    def verify(self, name: str | None = None, repair: bool = False) -> VerifyReport:
        """Check every committed version (or those of ``name``, or ``name@fingerprint``) in full.

        Full means every file hashed against its record. ``repair`` moves damaged versions aside,
        so the stages that made them rebuild them on their next run.
        """
        if name and "@" in name:
            targets = [self.resolve(name)]
        else:
            targets = sorted(self._committed(validate_name(name) if name else "*"))
        checks = []
        for n, fp in targets:
            check = self._check(n, fp, full=True)
            if repair and check.status == "damaged":
                check.moved_to = self.move_aside(n, fp, check.problems)
            checks.append(check)
        return VerifyReport(store=self.uri, versions=checks)

    def move_aside(self, name: str, fingerprint: str, problems: list[str]) -> str:
        """Move a damaged version out of the way (out of listings and reuse); returns where it went."""
        self._manifest_cache.pop(f"{name}/{fingerprint}", None)
        return move_version_aside(self.objects, name, fingerprint, problems)

    # -- lineage -------------------------------------------------------------------------------
    def upstream(self, ref: ArtifactRef | str) -> LineageNode:
        """The lineage tree of ``ref``: the version and everything it was made from (``ref`` as ``resolve`` takes it)."""
        name, fp = self.resolve(ref)
        return upstream(self.manifest, name, fp)

    def downstream(self, ref: ArtifactRef | str) -> list[LineageNode]:
        """Everything made from ``ref``, as trees of dependents; reads every manifest of the store."""
        name, fp = self.resolve(ref)
        return downstream(self.all_manifests(), name, fp)

    # -- housekeeping --------------------------------------------------------------------------
    def gc(self, grace_seconds: float = 3600.0, lease_ttl_s: float = LEASE_TTL_S) -> list[str]:
        """Remove uncommitted leftovers older than ``grace_seconds`` of versions no live writer holds.

        Leftovers are data files no shard record names (in committed versions), whole version
        folders that never got a manifest, expired leases and the temporary files of interrupted
        local commits. A version whose writer's lease was refreshed within ``lease_ttl_s`` is left
        alone whatever the age of its files; committed data is never touched.
        """
        cutoff = time.time() - grace_seconds
        removed: list[str] = []
        for version_key in self.objects.glob("*/*"):
            if not VERSION_FOLDER.match(version_key):
                continue  # versions moved aside, run records: not a writer's leftovers
            if live_leases(self.objects, version_key, lease_ttl_s):
                continue  # a live writer holds it
            if self.objects.exists(f"{version_key}/{MANIFEST_FILE}"):
                manifest = self.manifest(*version_key.split("/"))
                keep = {f"{version_key}/{s.file}" for s in manifest.shards}
                stale = [k for k in self.objects.glob(f"{version_key}/data/*") if k not in keep]
                stale += self.objects.glob(f"{version_key}/leases/*") + self.objects.glob(f"{version_key}/*.tmp")
                stale += self.objects.glob(f"{version_key}/shards/*.tmp")
            else:
                stale = [k for k in self.objects.glob(f"{version_key}/*/*")] + self.objects.glob(f"{version_key}/*.tmp")
            for key in stale:
                if self.objects.modified(key) < cutoff:
                    self.objects.delete(key)
                    removed.append(key)
            self.objects.remove_empty_folders(version_key)
        return removed
