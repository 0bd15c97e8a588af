"""The records that describe artifact versions.

A manifest is written last, once every shard is committed: its existence *is* the version's
commit. It carries everything needed to answer "what exactly produced this?": parents,
parameters, code, models, the orchestrator's run ids, and the shape of the data.

It also carries what lets a reader trust it: each shard's size and sha256 (computed while the
shard was written) and ``manifest_sha256``, a hash over the manifest's own canonical JSON, so a
manifest edited after the commit is told from a true one. Paths and names inside a manifest are
validated here: a manifest can only ever point inside its own version folder, and its parents
only at other versions of the store. Manifests written before the hashes existed still load
(the hash fields are None) and are reported as unverifiable, not as damaged.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from pydantic import BaseModel, Field, field_validator

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,127}$")
MANIFEST_FILE = "manifest.json"
FINGERPRINT_PATTERN = re.compile(r"^[0-9a-f]{1,64}$")
SHARD_FILE_PATTERN = re.compile(r"^data/[0-9]{6,}-[0-9a-f]{1,64}\.parquet$")
SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")
SECRET_KEY = re.compile(r"(secret|password|passwd|access_key|session_token|api_key|credential|auth_token)", re.I)
URL_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.I)


SHARD_DIGITS = 6


def shard_record_key(version_key: str, shard: int) -> str:
    """Key of shard ``shard``'s commit record in ``version_key``; zero-padded, so listings sort in shard order."""
    return f"{version_key}/shards/{shard:0{SHARD_DIGITS}d}.json"


def validate_name(name: str) -> str:
    """``name`` if it is a valid artifact name, else ValueError: a name becomes a folder of the store and must stay inside it."""
    if not NAME_PATTERN.match(name):
        raise ValueError(
            f"artifact name {name!r} is invalid: use lowercase letters, digits, '_', '.', '-' (start with a letter or digit, at most 128 characters)"
        )
    return name


def validate_fingerprint(fingerprint: str) -> str:
    """``fingerprint`` if it is lowercase hex, else ValueError: it becomes a folder name and must stay inside its artifact's folder."""
    if not FINGERPRINT_PATTERN.match(fingerprint):
        raise ValueError(f"fingerprint {fingerprint!r} is invalid: expected lowercase hex digits")
    return fingerprint


class ArtifactRef(BaseModel):
    """What tasks pass around: a pointer to a committed version, never the data."""

    name: str
    fingerprint: str
    uri: str = ""

    def __str__(self) -> str:
        return f"{self.name}@{self.fingerprint}"


class ShardRecord(BaseModel):
    shard: int
    file: str = Field(description="key of the Parquet file, relative to the version folder")
    rows: int
    bytes: int
    seconds: float = Field(description="time spent producing and writing this shard")
    sha256: str | None = Field(default=None, description="hash of the file's bytes as written; None before hashes existed")

    @field_validator("file")
    @classmethod
    def _inside_version(cls, file: str) -> str:
        if not SHARD_FILE_PATTERN.match(file):
            raise ValueError(f"shard file {file!r} is not a data file of this version (expected data/<shard>-<attempt>.parquet)")
        return file

    @field_validator("sha256")
    @classmethod
    def _hex(cls, value: str | None) -> str | None:
        if value is not None and not SHA256_PATTERN.match(value):
            raise ValueError(f"sha256 {value!r} is not 64 lowercase hex digits")
        return value


class Manifest(BaseModel):
    name: str
    fingerprint: str
    created_at: str
    parents: list[ArtifactRef]
    params: dict[str, Any]
    code_version: str
    git_commit: str | None = None
    git_dirty: bool | None = None
    models: dict[str, str] = Field(default_factory=dict)
    run_context: dict[str, str] = Field(default_factory=dict, description="orchestrator ids, e.g. Prefect flow_run_id / task_run_id")
    num_rows: int
    num_bytes: int
    schema_fields: list[dict[str, str]]
    shards: list[ShardRecord]
    wall_time_s: float
    stats: dict[str, Any] = Field(default_factory=dict, description="stage-specific figures")
    manifest_sha256: str | None = Field(default=None, description="sha256 of this manifest's canonical JSON without this field; None before hashes existed")

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        return validate_name(name)

    @field_validator("fingerprint")
    @classmethod
    def _fingerprint(cls, fingerprint: str) -> str:
        return validate_fingerprint(fingerprint)

    @field_validator("parents")
    @classmethod
    def _parents_inside_store(cls, parents: list[ArtifactRef]) -> list[ArtifactRef]:
        for p in parents:
            validate_name(p.name)
            validate_fingerprint(p.fingerprint)
        return parents

    @property
    def ref(self) -> ArtifactRef:
        """A pointer to this version (name and fingerprint, no URI)."""
        return ArtifactRef(name=self.name, fingerprint=self.fingerprint)

    @property
    def has_hashes(self) -> bool:
        """Whether the manifest and every shard carry a sha256; False for versions written before hashes (unverifiable, not damaged)."""
        return self.manifest_sha256 is not None and all(s.sha256 for s in self.shards)

    def sealed(self) -> "Manifest":
        """This manifest with ``manifest_sha256`` set over its other fields."""
        fields = json.loads(json.dumps(self.model_dump(mode="json")))  # exactly what a reader will parse
        return self.model_copy(update={"manifest_sha256": manifest_digest(fields)})

    def to_json_bytes(self) -> bytes:
        """The manifest as stored: indented JSON with sorted keys."""
        return json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=True).encode()


def manifest_digest(fields: dict[str, Any]) -> str:
    """sha256 over a manifest's JSON fields (as stored) without ``manifest_sha256`` itself.

    Computed from the parsed JSON, not the pydantic model, so what is checked is what is stored;
    NaN is allowed (stage statistics may hold it) and written the way ``json`` writes it.
    """
    body = {k: v for k, v in fields.items() if k != "manifest_sha256"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()


def scrub_secrets(value: Any) -> Any:
    """Drop secret-looking keys and credentials embedded in URLs before anything is persisted."""
    if isinstance(value, dict):
        return {k: ("***" if SECRET_KEY.search(str(k)) else scrub_secrets(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_secrets(v) for v in value]
    if isinstance(value, str):
        return URL_USERINFO.sub(r"\g<scheme>***@", value)
    return value
