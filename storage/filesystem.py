"""The few object-store operations the artifact store needs, over fsspec and pyarrow.

Everything above this module speaks in keys relative to the store root ("corpus/ab12/manifest.json").
The one operation object stores make hard is create-if-absent, the commit primitive: on S3 it
is a conditional PUT (``If-None-Match: *``, through s3fs' ``mode="create"``); on a local disk the
file is written aside and hard-linked into place, which fails atomically if the name exists, so
no reader ever sees a half-written commit record.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import fsspec
import pyarrow.fs as pafs

from storage.config import StoreConfig


class AlreadyExists(Exception):
    """Raised when a create-if-absent finds the key taken: someone else committed first."""


def _env(name: str, explicit: Any) -> str | None:
    if explicit is None:
        return os.environ.get(name) or None
    return explicit.get_secret_value() if hasattr(explicit, "get_secret_value") else str(explicit)


def _http_status(exc: BaseException) -> int | None:
    """The HTTP status behind an exception raised by s3fs/botocore, if any."""
    seen: BaseException | None = exc
    while seen is not None:
        response = getattr(seen, "response", None)
        if isinstance(response, dict):
            status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status is not None:
                return int(status)
        seen = seen.__cause__ or seen.__context__
    return None


@dataclass
class ObjectStore:
    """A store root plus the filesystem that reaches it."""

    config: StoreConfig

    @cached_property
    def _s3_settings(self) -> dict[str, str | None]:
        cfg = self.config
        return {
            "endpoint_url": _env("AWS_ENDPOINT_URL", cfg.endpoint_url),
            "region": _env("AWS_DEFAULT_REGION", cfg.region) or "us-east-1",
            "key": _env("AWS_ACCESS_KEY_ID", cfg.access_key_id),
            "secret": _env("AWS_SECRET_ACCESS_KEY", cfg.secret_access_key),
        }

    @cached_property
    def fs(self) -> fsspec.AbstractFileSystem:
        if not self.config.is_s3:
            return fsspec.filesystem("file")
        s = self._s3_settings
        client_kwargs = {"region_name": s["region"]}
        if s["endpoint_url"]:
            client_kwargs["endpoint_url"] = s["endpoint_url"]
        # Checksums only when the API requires them: S3-compatible servers (Ceph, MinIO) reject
        # the newer default trailing checksums on some operations.
        config_kwargs = {"request_checksum_calculation": "when_required", "response_checksum_validation": "when_required"}
        return fsspec.filesystem(
            "s3",
            key=s["key"],
            secret=s["secret"],
            client_kwargs=client_kwargs,
            config_kwargs=config_kwargs,
            skip_instance_cache=True,
            # Other processes commit shards and versions all the time: a cached listing would
            # hide their commits (and make a resumed writer redo committed shards).
            use_listings_cache=False,
        )

    @cached_property
    def arrow_fs(self) -> pafs.FileSystem:
        """pyarrow's native filesystem for streaming Parquet reads (faster than going through fsspec)."""
        if not self.config.is_s3:
            return pafs.LocalFileSystem()
        s = self._s3_settings
        endpoint = s["endpoint_url"]
        kwargs: dict[str, Any] = {"region": s["region"], "access_key": s["key"], "secret_key": s["secret"]}
        if endpoint:
            scheme, _, host = endpoint.partition("://")
            kwargs.update(endpoint_override=host or endpoint, scheme=scheme if host else "https")
        return pafs.S3FileSystem(**kwargs)

    @cached_property
    def root(self) -> str:
        uri = self.config.uri
        if self.config.is_s3:
            return uri[len("s3://"):].rstrip("/")
        path = os.path.abspath(os.path.expanduser(uri))
        os.makedirs(path, exist_ok=True)
        return path

    def path(self, key: str) -> str:
        return f"{self.root}/{key}" if key else self.root

    def url(self, key: str = "") -> str:
        """A URI a person (or another tool) can open."""
        return ("s3://" if self.config.is_s3 else "file://") + self.path(key)

    # -- reads ---------------------------------------------------------------------------------
    def exists(self, key: str) -> bool:
        return self.fs.exists(self.path(key))

    def read_bytes(self, key: str) -> bytes:
        return self.fs.cat_file(self.path(key))

    def read_json(self, key: str) -> Any:
        return json.loads(self.read_bytes(key))

    def list(self, prefix: str) -> list[str]:
        """Keys directly under ``prefix`` (files and folders), relative to the root."""
        try:
            entries = self.fs.ls(self.path(prefix), detail=False)
        except FileNotFoundError:
            return []
        root_len = len(self.root) + 1
        return sorted(e.rstrip("/")[root_len:] for e in entries)

    def glob(self, pattern: str) -> list[str]:
        root_len = len(self.root) + 1
        return sorted(p[root_len:] for p in self.fs.glob(self.path(pattern)))

    def modified(self, key: str) -> float:
        info = self.fs.info(self.path(key))
        mtime = info.get("mtime") or info.get("LastModified") or info.get("created")
        return mtime.timestamp() if hasattr(mtime, "timestamp") else float(mtime or 0.0)

    # -- writes --------------------------------------------------------------------------------
    def open_write(self, key: str):
        path = self.path(key)
        if not self.config.is_s3:
            os.makedirs(os.path.dirname(path), exist_ok=True)
        return self.fs.open(path, "wb")

    def create_if_absent(self, key: str, data: bytes) -> None:
        """Write ``data`` at ``key`` only if nothing is there yet; raise AlreadyExists otherwise."""
        path = self.path(key)
        if self.config.is_s3:
            # A single small PUT with If-None-Match: *. (Never a multipart upload: Ceph RGW
            # ignores the condition on multipart completion; commit records are tiny.)
            try:
                self.fs.pipe_file(path, data, mode="create")
            except FileExistsError as exc:
                raise AlreadyExists(key) from exc
            except OSError as exc:
                # s3fs maps 412 to FileExistsError only when the error body names the condition;
                # Ceph RGW's does not, and s3fs raises a plain OSError wrapping the 412.
                if _http_status(exc) == 412:
                    raise AlreadyExists(key) from exc
                raise
            return
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{uuid.uuid4().hex}.tmp"
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError as exc:
            raise AlreadyExists(key) from exc
        finally:
            os.unlink(tmp)

    def create_json_if_absent(self, key: str, obj: Any) -> None:
        self.create_if_absent(key, json.dumps(obj, indent=2, sort_keys=True).encode())

    def delete(self, key: str, recursive: bool = False) -> None:
        try:
            self.fs.rm(self.path(key), recursive=recursive)
        except FileNotFoundError:
            pass
