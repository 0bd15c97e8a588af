"""The few object-store operations the artifact store needs, over fsspec and pyarrow.

Everything above this module speaks in keys relative to the store root ("corpus/ab12/manifest.json").
The one operation object stores make hard is create-if-absent, the commit primitive: on S3 it
is a conditional PUT (``If-None-Match: *``, through s3fs' ``mode="create"``); on a local disk the
file is written aside and hard-linked into place, which fails atomically if the name exists, so
no reader ever sees a half-written commit record.

Every S3 call is bounded and retried here, in one place (``_bounded``): each attempt has a total
deadline (``StoreConfig.timeout_s``, on top of the client's connect/read timeouts), transient
failures are retried with exponential backoff until ``StoreConfig.retry_for_s`` has passed, and
then ``StoreUnavailable`` names the call, the key, the endpoint and the settings to change.
s3fs' and botocore's own retries are switched off so that this budget is the only one, and the
``Expect: 100-continue`` header botocore adds to PUTs is removed: aiohttp waits for the
``100 Continue`` with no timeout at all, so a gateway that accepts and never answers hung a PUT
for ever. A retried conditional PUT may meet its own earlier, successful attempt (the reply was
lost): callers of ``create_if_absent`` must read what is there before calling it a lost race.
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable, TypeVar

import fsspec
import pyarrow.fs as pafs

from storage.config import StoreConfig


T = TypeVar("T")
UPLOAD_SECONDS_PER_MIB = 1.0  # an attempt that moves a large file gets this much extra time
FIRST_BACKOFF_S = 0.25
MAX_BACKOFF_S = 15.0
ARROW_NETWORK_ERRORS = ("NETWORK_CONNECTION", "curlCode", "Timeout was reached", "SERVICE_UNAVAILABLE", "INTERNAL_FAILURE", "SLOW_DOWN", "HTTP status 5")
TRANSIENT_ERRNOS = {errno.ECONNRESET, errno.ECONNREFUSED, errno.ECONNABORTED, errno.ETIMEDOUT, errno.EPIPE, errno.EHOSTUNREACH}


class AlreadyExists(Exception):
    """Raised when a create-if-absent finds the key taken (by another writer, or by our own earlier try)."""


class StoreUnavailable(RuntimeError):
    """The object store did not answer, or kept failing, for longer than the configured retry time."""


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


def is_transient(exc: BaseException) -> bool:
    """Worth retrying: timeouts, dropped or refused connections, 5xx/429; never a 4xx answer."""
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import HTTPClientError
    from fsspec.exceptions import FSTimeoutError

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, (FileNotFoundError, FileExistsError, PermissionError, AlreadyExists)):
            return False
        status = _http_status(seen)
        if status is not None:
            return status >= 500 or status in (408, 429)
        if isinstance(seen, (FSTimeoutError, asyncio.TimeoutError, TimeoutError, ConnectionError, HTTPClientError, BotoConnectionError)):
            return True
        if type(seen).__module__.startswith("aiohttp"):
            return True  # aiohttp.ClientError: server disconnected, payload cut short, ...
        if isinstance(seen, OSError) and seen.errno in TRANSIENT_ERRNOS:
            return True
        if isinstance(seen, OSError) and any(m in str(seen) for m in ARROW_NETWORK_ERRORS):
            return True  # pyarrow's S3 client reports network failures as a plain OSError
        seen = seen.__cause__ or seen.__context__
    return False


def _strip_expect_continue(request, **_: Any) -> None:
    """botocore asks for ``Expect: 100-continue`` on PUTs; aiohttp then waits for it without any timeout."""
    request.headers.pop("Expect", None)


@dataclass
class ObjectStore:
    """A store root plus the filesystem that reaches it; every S3 call bounded in time and retried."""

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
        """The fsspec filesystem that reaches the root: the local disk, or s3fs set up for ``_bounded``.

        On S3 its own retries are off (``_bounded`` retries under one time budget) and listings are never
        cached: other processes commit shards and versions all the time.
        """
        if not self.config.is_s3:
            return fsspec.filesystem("file")
        from aiobotocore.session import AioSession

        s = self._s3_settings
        client_kwargs = {"region_name": s["region"]}
        if s["endpoint_url"]:
            client_kwargs["endpoint_url"] = s["endpoint_url"]
        session = AioSession()
        session.register("before-send.s3", _strip_expect_continue)
        timeout = self.config.timeout_s
        config_kwargs = {
            # Checksums only when the API requires them: S3-compatible servers (Ceph, MinIO) reject
            # the newer default trailing checksums on some operations.
            "request_checksum_calculation": "when_required",
            "response_checksum_validation": "when_required",
            "connect_timeout": min(timeout, 10.0),
            "read_timeout": timeout,
            "retries": {"total_max_attempts": 1},  # retried in _bounded, under one time budget
        }
        return fsspec.filesystem(
            "s3",
            key=s["key"],
            secret=s["secret"],
            session=session,
            client_kwargs=client_kwargs,
            config_kwargs=config_kwargs,
            retries=1,
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
        timeout = self.config.timeout_s
        kwargs: dict[str, Any] = {
            "region": s["region"],
            "access_key": s["key"],
            "secret_key": s["secret"],
            "connect_timeout": min(timeout, 10.0),
            "request_timeout": timeout,
            # a few quick retries inside pyarrow; longer outages are ridden out by retrying_read
            "retry_strategy": pafs.AwsStandardS3RetryStrategy(max_attempts=3),
        }
        if endpoint:
            scheme, _, host = endpoint.partition("://")
            kwargs.update(endpoint_override=host or endpoint, scheme=scheme if host else "https")
        return pafs.S3FileSystem(**kwargs)

    @cached_property
    def root(self) -> str:
        """The root as both filesystems name it: ``bucket/prefix`` on S3, an absolute path locally (the folder is created if missing)."""
        uri = self.config.uri
        if self.config.is_s3:
            return uri[len("s3://") :].rstrip("/")
        path = os.path.abspath(os.path.expanduser(uri))
        os.makedirs(path, exist_ok=True)
        return path

    def path(self, key: str) -> str:
        """The filesystem path of ``key`` (the root itself for an empty key)."""
        return f"{self.root}/{key}" if key else self.root

    def url(self, key: str = "") -> str:
        """A URI a person (or another tool) can open."""
        return ("s3://" if self.config.is_s3 else "file://") + self.path(key)

    # -- bounded calls -------------------------------------------------------------------------
    def _bounded(self, what: str, key: str, call: Callable[..., Any], *args: Any, extra_s: float = 0.0, **kwargs: Any) -> Any:
        """Run an async s3fs method with a total deadline per attempt, retrying transient failures."""
        from fsspec.asyn import sync

        timeout = self.config.timeout_s + extra_s
        return self._retrying(what, key, lambda: sync(self.fs.loop, call, *args, timeout=timeout, **kwargs))

    def _retrying(self, what: str, key: str, attempt: Callable[[], T]) -> T:
        """Call ``attempt`` until it succeeds, fails for good, or ``retry_for_s`` is spent: a transient
        failure is retried for at least ``retry_for_s`` and at most that plus one attempt."""
        cfg = self.config
        started = time.monotonic()
        delay, attempts = FIRST_BACKOFF_S, 0
        while True:
            attempts += 1
            try:
                return attempt()
            except Exception as exc:  # noqa: BLE001 - sorted into transient or not just below
                if not is_transient(exc):
                    raise
                last = exc
            elapsed = time.monotonic() - started
            if elapsed >= cfg.retry_for_s:  # retried for the whole budget (it used to give up up to one backoff early)
                raise StoreUnavailable(
                    f"object store {self._s3_settings['endpoint_url'] or 'AWS S3'} did not complete {what} of "
                    f"{self.url(key)}: {attempts} attempt(s) over {elapsed:.1f} s failed, the last with "
                    f"{type(last).__name__}: {last or 'no answer in time'} (limits: store.timeout_s="
                    f"{cfg.timeout_s:g} per attempt, store.retry_for_s={cfg.retry_for_s:g} in all; "
                    "is the gateway up and answering?)"
                ) from last
            time.sleep(min(delay, cfg.retry_for_s - elapsed))  # the last try starts when the budget ends
            delay = min(delay * 2, MAX_BACKOFF_S)

    # -- reads ---------------------------------------------------------------------------------
    def exists(self, key: str) -> bool:
        """Whether anything is at ``key`` (an object or file, or a folder)."""
        if not self.config.is_s3:
            return os.path.exists(self.path(key))
        return self._bounded("a HEAD", key, self.fs._exists, self.path(key))

    def read_bytes(self, key: str) -> bytes:
        """The whole object at ``key`` (meant for small ones: manifests, records); FileNotFoundError if there is none."""
        if not self.config.is_s3:
            with open(self.path(key), "rb") as f:
                return f.read()
        return self._bounded("a GET", key, self.fs._cat_file, self.path(key))

    def read_json(self, key: str) -> Any:
        """The object at ``key`` parsed as JSON (commit records, run records, leases)."""
        return json.loads(self.read_bytes(key))

    def list(self, prefix: str) -> list[str]:
        """Keys directly under ``prefix`` (files and folders), relative to the root."""
        return sorted(self.sizes(prefix, folders=True))

    def sizes(self, prefix: str, folders: bool = False) -> dict[str, int]:
        """Keys directly under ``prefix`` and their sizes, in one listing; {} if there is nothing."""
        try:
            entries = (
                self._bounded("a listing", prefix, self.fs._ls, self.path(prefix), detail=True)
                if self.config.is_s3
                else self.fs.ls(self.path(prefix), detail=True)
            )
        except FileNotFoundError:
            return {}
        root_len = len(self.root) + 1
        return {e["name"].rstrip("/")[root_len:]: int(e.get("size") or 0) for e in entries if folders or e.get("type") != "directory"}

    def glob(self, pattern: str) -> list[str]:
        """Keys matching the glob ``pattern``, relative to the root, sorted."""
        root_len = len(self.root) + 1
        found = self._bounded("a listing", pattern, self.fs._glob, self.path(pattern)) if self.config.is_s3 else self.fs.glob(self.path(pattern))
        return sorted(p[root_len:] for p in found)

    def modified(self, key: str) -> float:
        """When the object at ``key`` was last modified, as a Unix time (0.0 when the store does not say); what ``gc`` ages leftovers by."""
        info = self._bounded("a HEAD", key, self.fs._info, self.path(key)) if self.config.is_s3 else self.fs.info(self.path(key))
        mtime = info.get("mtime") or info.get("LastModified") or info.get("created")
        return mtime.timestamp() if hasattr(mtime, "timestamp") else float(mtime or 0.0)

    def retrying_read(self, key: str, read: Callable[[], T]) -> T:
        """A read through pyarrow (after its own quick retries) retried for ``retry_for_s`` like every S3 call."""
        return self._retrying("a read", key, read) if self.config.is_s3 else read()

    def read_parquet_schema(self, key: str):
        """The Arrow schema of the Parquet file at ``key``, read from its footer (on S3 retried like every call)."""
        import pyarrow.parquet as pq

        read = lambda: pq.read_schema(self.path(key), filesystem=self.fs)  # noqa: E731
        return self._retrying("a read", key, read) if self.config.is_s3 else read()

    def find(self, prefix: str) -> list[str]:
        """Every file under ``prefix``, recursively, relative to the root."""
        root_len = len(self.root) + 1
        try:
            found = self._bounded("a listing", prefix, self.fs._find, self.path(prefix)) if self.config.is_s3 else self.fs.find(self.path(prefix))
        except FileNotFoundError:
            return []
        return sorted(p[root_len:] for p in found)

    def sha256(self, key: str) -> str:
        """sha256 of an object's bytes, streamed (never the whole file in memory)."""
        import hashlib

        def digest() -> str:
            h = hashlib.sha256()
            with self.fs.open(self.path(key), "rb", block_size=8 << 20) as f:
                for chunk in iter(lambda: f.read(8 << 20), b""):
                    h.update(chunk)
            return h.hexdigest()

        # Each ranged GET inside is bounded by the client's read timeout; the whole read is retried.
        return self._retrying("a read", key, digest) if self.config.is_s3 else digest()

    # -- writes --------------------------------------------------------------------------------
    def open_write(self, key: str):
        """A local file to write directly (local stores only: on S3 use ``upload_file``)."""
        if self.config.is_s3:
            raise RuntimeError("open_write is for local stores; on S3 write a local file and call upload_file")
        path = self.path(key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        return open(path, "wb")

    def upload_file(self, local_path: str, key: str) -> None:
        """Copy a finished local file to ``key``; on S3 retried as a whole, so nothing half-sent stays."""
        size = os.path.getsize(local_path)
        if not self.config.is_s3:
            dest = self.path(key)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            shutil.copyfile(local_path, dest)
            return
        self._bounded("an upload", key, self.fs._put_file, local_path, self.path(key), extra_s=size / 2**20 * UPLOAD_SECONDS_PER_MIB)

    def create_if_absent(self, key: str, data: bytes) -> None:
        """Write ``data`` at ``key`` only if nothing is there yet; raise AlreadyExists otherwise.

        On S3 a retried PUT can find the object its own lost-reply attempt created: AlreadyExists
        then means "something is there", not "someone else won" (see ArtifactWriter.write_shard).
        """
        path = self.path(key)
        if self.config.is_s3:
            # A single small PUT with If-None-Match: *. (Never a multipart upload: Ceph RGW
            # ignores the condition on multipart completion; commit records are tiny.)
            try:
                self._bounded("a conditional PUT", key, self.fs._pipe_file, path, data, mode="create")
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
        """``create_if_absent`` with ``obj`` written as indented JSON with sorted keys."""
        self.create_if_absent(key, json.dumps(obj, indent=2, sort_keys=True).encode())

    def remove_empty_folders(self, prefix: str) -> None:
        """Local stores: delete empty folders under (and including) `prefix`; object stores have none."""
        if self.config.is_s3:
            return
        top = self.path(prefix)
        for folder, _, _ in sorted(os.walk(top), key=lambda entry: -len(entry[0])):
            try:
                os.rmdir(folder)  # only succeeds when empty
            except OSError:
                pass

    def write_bytes(self, key: str, data: bytes) -> None:
        """An unconditional small write (notes beside data, never a commit)."""
        if not self.config.is_s3:
            os.makedirs(os.path.dirname(self.path(key)), exist_ok=True)
            with open(self.path(key), "wb") as f:
                f.write(data)
            return
        self._bounded("a PUT", key, self.fs._pipe_file, self.path(key), data)

    def copy(self, src: str, dest: str) -> None:
        """Copy the object ``src`` to ``dest``: on S3, which has no rename, how a version folder is moved aside (file by file)."""
        if not self.config.is_s3:
            os.makedirs(os.path.dirname(self.path(dest)), exist_ok=True)
            shutil.copyfile(self.path(src), self.path(dest))
            return
        self._bounded("a copy", src, self.fs._copy, self.path(src), self.path(dest))

    def rename_local(self, src: str, dest: str) -> None:
        """Atomic rename of a folder on a local store."""
        os.rename(self.path(src), self.path(dest))

    def delete(self, key: str, recursive: bool = False) -> None:
        """Delete ``key`` (with ``recursive``, everything under it); a key that is already gone is not an error."""
        try:
            if self.config.is_s3:
                self._bounded("a DELETE", key, self.fs._rm, self.path(key), recursive=recursive)
            else:
                self.fs.rm(self.path(key), recursive=recursive)
        except FileNotFoundError:
            pass
