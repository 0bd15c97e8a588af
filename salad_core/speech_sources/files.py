"""Local or s3:// inputs through fsspec: glob expansion in sorted order, and file identities."""

from __future__ import annotations

from typing import Any

import fsspec

GLOB_CHARS = "*?["


def _filesystem(url: str, storage_options: dict[str, Any]) -> tuple[fsspec.AbstractFileSystem, str, str]:
    """(filesystem, path without protocol, "s3://"-style prefix to put back) for ``url``.

    fsspec hands out one cached filesystem instance per set of options, with its directory
    listings cached: without the refresh, a second run in the same process (a Prefect worker, a
    notebook) would not see tars added to a bucket or files replaced since the first, and would
    reuse the old version under the old inputs' fingerprint.
    """
    fs, path = fsspec.core.url_to_fs(url, **storage_options)
    fs.invalidate_cache()
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    return fs, path, "" if protocol in ("file", "local") else f"{protocol}://"


def expand(patterns: list[str], storage_options: dict[str, Any]) -> list[str]:
    """Every file the patterns name, sorted per pattern; a pattern matching nothing is an error."""
    found: list[str] = []
    for pattern in patterns:
        fs, path, prefix = _filesystem(pattern, storage_options)
        if any(c in path for c in GLOB_CHARS):
            matched = sorted(p for p, info in fs.glob(path, detail=True).items() if info.get("type") != "directory")
        else:
            matched = [path] if fs.isfile(path) else []
        if not matched:
            raise FileNotFoundError(f"no such file: {pattern}")
        found.extend(prefix + p for p in matched)
    return found


def identity(url: str, storage_options: dict[str, Any]) -> dict[str, Any]:
    """Path plus size (and etag on S3): a replaced input file makes a new artifact version.

    Called right after ``expand``, which refreshed the listing that ``info`` reads from.
    """
    fs, path = fsspec.core.url_to_fs(url, **storage_options)
    info = fs.info(path)
    out = {"url": url, "size": info.get("size")}
    if info.get("ETag"):
        out["etag"] = str(info["ETag"]).strip('"')
    return out


def read_bytes(url: str, storage_options: dict[str, Any]) -> bytes:
    """The whole content of a local path or fsspec url as bytes."""
    with fsspec.open(url, "rb", **storage_options) as f:
        return f.read()
