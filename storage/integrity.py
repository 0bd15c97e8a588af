"""Checking that a committed version is what its manifest says, before it is served or reused.

Why: a version is immutable only as long as nobody edits, truncates, swaps or deletes its files,
and object stores and disks do not prevent that. A damaged version that is served fails later,
far from its cause (``KeyError: 'Field "embedding" does not exist'``); one that is reused keeps
every rerun wrong. So each check names the artifact, the version and the file, and the store
reacts: ``get`` refuses to serve it, ``find`` moves it aside so the stage rebuilds it.

Two depths: ``full=False`` costs one listing (every shard file present with its recorded size,
the manifest's own hash and totals consistent); ``full=True`` also hashes every file and reads
every shard's commit record.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Literal

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ValidationError

from storage.filesystem import ObjectStore
from storage.manifest import MANIFEST_FILE, Manifest, ShardRecord, manifest_digest, shard_record_key, validate_fingerprint, validate_name

Status = Literal["ok", "damaged", "unverifiable"]
DAMAGED_NOTE = "DAMAGED.json"
VERIFY_HINT = "`salad artifacts verify --repair` moves it aside; the stage that made it rebuilds it on its next run"


class DamagedArtifact(RuntimeError):
    """A committed version whose files do not match its manifest (or whose manifest was edited)."""

    def __init__(self, name: str, fingerprint: str, problems: list[str], where: str):
        self.name, self.fingerprint, self.problems, self.where = name, fingerprint, problems, where
        super().__init__(f"artifact {name}@{fingerprint} in {where} is damaged: {'; '.join(problems)} ({VERIFY_HINT})")


class VersionCheck(BaseModel):
    name: str
    fingerprint: str
    status: Status
    problems: list[str] = []
    moved_to: str | None = None

    def line(self) -> str:
        """One line of the verify report: the version, its status (with the problems when damaged) and where it was moved."""
        text = {"ok": "ok", "unverifiable": "unverifiable: no hashes (written before hashes were recorded)"}.get(
            self.status, "DAMAGED: " + "; ".join(self.problems)
        )
        moved = f" -> moved aside to {self.moved_to}" if self.moved_to else ""
        return f"{self.name}@{self.fingerprint}: {text}{moved}"


class VerifyReport(BaseModel):
    store: str
    versions: list[VersionCheck]

    @property
    def damaged(self) -> list[VersionCheck]:
        """The checks that found their version damaged."""
        return [v for v in self.versions if v.status == "damaged"]

    def text(self) -> str:
        """The report as text: one line per version, then how many versions have each status."""
        counts = {s: sum(v.status == s for v in self.versions) for s in ("ok", "unverifiable", "damaged")}
        summary = f"{len(self.versions)} version(s) in {self.store}: " + ", ".join(f"{n} {s}" for s, n in counts.items())
        return "\n".join([*(v.line() for v in self.versions), summary])


def parse_manifest(raw: bytes, name: str, fingerprint: str, where: str) -> Manifest:
    """The manifest stored for ``name@fingerprint``, refused with DamagedArtifact if edited or malformed."""

    def damaged(problem: str) -> DamagedArtifact:
        return DamagedArtifact(name, fingerprint, [f"manifest.json {problem}"], where)

    try:
        fields = json.loads(raw)
    except ValueError as exc:
        raise damaged(f"is not valid JSON ({exc})") from None
    if not isinstance(fields, dict):
        raise damaged("is not a JSON object")
    recorded = fields.get("manifest_sha256")
    if recorded is not None and manifest_digest(fields) != recorded:
        raise damaged("does not match its recorded sha256 (edited after the commit)")
    try:
        manifest = Manifest.model_validate(fields)
    except ValidationError as exc:
        errors = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
        raise damaged(f"is invalid: {errors}") from None
    if (manifest.name, manifest.fingerprint) != (name, fingerprint):
        raise damaged(f"describes {manifest.name}@{manifest.fingerprint}, not the version it is stored as")
    return manifest


def check_version(objects: ObjectStore, manifest: Manifest, full: bool) -> list[str]:
    """Problems with a version's files, each naming the file; [] when it is intact."""
    m, problems = manifest, []
    version_key = f"{m.name}/{m.fingerprint}"
    if [s.shard for s in m.shards] != list(range(len(m.shards))):
        problems.append(f"manifest.json lists shards {[s.shard for s in m.shards][:10]}, expected 0..{len(m.shards) - 1}")
    for total, field in ((sum(s.rows for s in m.shards), "num_rows"), (sum(s.bytes for s in m.shards), "num_bytes")):
        if getattr(m, field) != total:
            problems.append(f"manifest.json says {field}={getattr(m, field)} but its shards add up to {total}")
    sizes = objects.sizes(f"{version_key}/data")
    for s in m.shards:
        key = f"{version_key}/{s.file}"
        if key not in sizes:
            problems.append(f"{s.file} (shard {s.shard}) is missing")
        elif sizes[key] != s.bytes:
            problems.append(f"{s.file} (shard {s.shard}) has {sizes[key]} bytes, {s.bytes} recorded")
        elif full:
            problems += _check_content(objects, key, s)
    if full:
        problems += _check_records(objects, version_key, m.shards)
    return problems


def _check_content(objects: ObjectStore, key: str, record: ShardRecord) -> list[str]:
    where = f"{record.file} (shard {record.shard})"
    if record.sha256 is not None:
        if objects.sha256(key) != record.sha256:
            return [f"{where} does not match its recorded sha256"]
        return []
    try:  # no hash recorded: the Parquet footer's row count is the best check left
        rows = pq.read_metadata(objects.path(key), filesystem=objects.fs).num_rows
    except (pa.ArrowInvalid, OSError) as exc:
        return [f"{where} cannot be read as Parquet ({exc})"]
    return [] if rows == record.rows else [f"{where} holds {rows} rows, {record.rows} recorded"]


def _check_records(objects: ObjectStore, version_key: str, shards: list[ShardRecord]) -> list[str]:
    """Each shard's commit record must say what the manifest copied from it."""
    problems = []
    for s in shards:
        key = shard_record_key(version_key, s.shard)
        name = key[len(version_key) + 1 :]
        try:
            record = ShardRecord.model_validate(objects.read_json(key))
        except FileNotFoundError:
            problems.append(f"{name} (the commit record of shard {s.shard}) is missing")
            continue
        except (ValueError, ValidationError) as exc:
            problems.append(f"{name} is not a valid commit record ({str(exc).splitlines()[0]})")
            continue
        skip = {"seconds"} | ({"sha256"} if s.sha256 is None else set())  # a manifest from before hashes
        if record.model_dump(exclude=skip) != s.model_dump(exclude=skip):
            problems.append(f"{name} does not agree with manifest.json about shard {s.shard}")
    return problems


def move_version_aside(objects: ObjectStore, name: str, fingerprint: str, problems: list[str]) -> str:
    """Move a damaged version folder to ``<name>/<fingerprint>.damaged-<utc>/`` with a DAMAGED.json; returns it.

    Out of every listing and never reused, kept for a person to inspect; the fingerprint's folder
    is free again, so the stage that made the version rebuilds it from scratch. On S3 (no rename)
    everything is copied first, then deleted commit records first and the manifest last: a crash
    part-way leaves either the damaged version (found again next time) or an uncommitted folder
    without commit records, never a version that looks intact.
    """
    key = f"{validate_name(name)}/{validate_fingerprint(fingerprint)}"
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
    dest = f"{key}.damaged-{stamp}"
    note = json.dumps({"artifact": f"{name}@{fingerprint}", "problems": problems, "moved_at": stamp}, indent=2).encode()
    if not objects.config.is_s3:
        objects.rename_local(key, dest)
        objects.write_bytes(f"{dest}/{DAMAGED_NOTE}", note)
        return dest
    files = objects.find(key)
    for f in files:
        objects.copy(f, dest + f[len(key) :])
    objects.write_bytes(f"{dest}/{DAMAGED_NOTE}", note)
    order = {"shards": 0, "data": 1}
    for f in sorted(files, key=lambda f: (order.get(f[len(key) + 1 :].split("/")[0], 2), f.endswith(MANIFEST_FILE))):
        objects.delete(f)
    return dest
