"""Local or s3:// inputs through fsspec: glob expansion in sorted order, and file identities."""

from __future__ import annotations

from typing import Any

import fsspec


def expand(patterns: list[str], storage_options: dict[str, Any]) -> list[str]:
    """Every file the patterns name, sorted per pattern; a pattern matching nothing is an error."""
    found: list[str] = []
    for pattern in patterns:
        fs, _, matched = fsspec.get_fs_token_paths(pattern, storage_options=storage_options)
        if not matched:
            raise FileNotFoundError(f"no such file: {pattern}")
        protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
        prefix = "" if protocol in ("file", "local") else f"{protocol}://"
        found.extend(prefix + p for p in sorted(matched))
    return found


def identity(url: str, storage_options: dict[str, Any]) -> dict[str, Any]:
    """Path plus size (and etag on S3): a replaced input file makes a new artifact version."""
    fs, path = fsspec.core.url_to_fs(url, **storage_options)
    info = fs.info(path)
    out = {"url": url, "size": info.get("size")}
    if info.get("ETag"):
        out["etag"] = str(info["ETag"]).strip('"')
    return out


def read_bytes(url: str, storage_options: dict[str, Any]) -> bytes:
    with fsspec.open(url, "rb", **storage_options) as f:
        return f.read()
