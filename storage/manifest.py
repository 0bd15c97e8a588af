"""The records that describe artifact versions.

A manifest is written last, once every shard is committed: its existence *is* the version's
commit. It carries everything needed to answer "what exactly produced this?": parents,
parameters, code, models, the orchestrator's run ids, and the shape of the data.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,127}$")
MANIFEST_FILE = "manifest.json"
SECRET_KEY = re.compile(r"(secret|password|passwd|access_key|session_token|api_key|credential|auth_token)", re.I)
URL_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.I)


def validate_name(name: str) -> str:
    if not NAME_PATTERN.match(name):
        raise ValueError(
            f"artifact name {name!r} is invalid: use lowercase letters, digits, '_', '.', '-' "
            "(start with a letter or digit, at most 128 characters)"
        )
    return name


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
    run_context: dict[str, str] = Field(
        default_factory=dict, description="orchestrator ids, e.g. Prefect flow_run_id / task_run_id"
    )
    num_rows: int
    num_bytes: int
    schema_fields: list[dict[str, str]]
    shards: list[ShardRecord]
    wall_time_s: float
    stats: dict[str, Any] = Field(default_factory=dict, description="stage-specific figures")

    @property
    def ref(self) -> ArtifactRef:
        return ArtifactRef(name=self.name, fingerprint=self.fingerprint)


def scrub_secrets(value: Any) -> Any:
    """Drop secret-looking keys and credentials embedded in URLs before anything is persisted."""
    if isinstance(value, dict):
        return {k: ("***" if SECRET_KEY.search(str(k)) else scrub_secrets(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_secrets(v) for v in value]
    if isinstance(value, str):
        return URL_USERINFO.sub(r"\g<scheme>***@", value)
    return value
