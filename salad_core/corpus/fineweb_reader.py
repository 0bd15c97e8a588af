"""Streaming FineWeb-Edu Parquet files from a local folder or S3, one batch at a time.

    for path, batch in iter_fineweb_batches(resolve_paths(["data/*.parquet"]), batch_rows=1000):
        ...

Every file is checked before any row of any file is read: a file that is not Parquet, or lacks a FineWeb-Edu
column, or has it with an unusable type, stops the stage with an error naming the file and the
column. Extra columns are dropped, missing optional metadata is not tolerated: silently
filling it would make filters lie.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq

from salad_core.corpus.fineweb_schema import FINEWEB_SCHEMA


class InputFileError(ValueError):
    """A source file cannot be ingested; the message names the file and what is wrong."""


@dataclass(frozen=True)
class SourceFile:
    """A resolved input file and what identifies its content (a changed file makes a new version)."""

    url: str
    size: int
    etag: str

    def as_param(self) -> dict:
        """The file's identity as JSON-ready params (url, size, etag), so a changed file changes the ingest fingerprint."""
        return {"url": self.url, "size": self.size, "etag": self.etag}


def _filesystem(pattern: str) -> tuple[fsspec.AbstractFileSystem, str]:
    """The filesystem for ``pattern``, its listings refreshed: fsspec shares one cached instance per
    set of options, so a long-lived process (a Prefect worker) would otherwise miss files added to a
    bucket since its last run and reuse the old version."""
    fs, path = fsspec.core.url_to_fs(pattern)
    fs.invalidate_cache()
    return fs, path


def resolve_paths(patterns: list[str]) -> list[SourceFile]:
    """Expand globs into a sorted, de-duplicated file list; a pattern matching nothing is an error."""
    files: dict[str, SourceFile] = {}
    for pattern in patterns:
        fs, path = _filesystem(pattern)
        matches = sorted(fs.glob(path)) if any(c in path for c in "*?[") else ([path] if fs.exists(path) else [])
        if not matches:
            raise InputFileError(f"{pattern}: no such file (or the glob matched nothing)")
        protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
        for m in matches:
            info = fs.info(m)
            if info.get("type") == "directory":
                continue
            url = m if protocol == "file" else f"{protocol}://{m}"
            etag = str(info.get("ETag") or info.get("etag") or info.get("mtime") or info.get("LastModified") or "")
            files[url] = SourceFile(url=url, size=int(info.get("size") or 0), etag=etag.strip('"'))
    if not files:
        raise InputFileError(f"{patterns}: the globs matched only folders")
    return [files[u] for u in sorted(files)]


def check_schema(url: str, schema: pa.Schema) -> None:
    """Every FineWeb column present with a type that casts without loss: strings as (large) strings,
    floats from any number, integers from integers only (an int_score column of doubles is refused
    here, naming the column, instead of failing rows later on a value like 3.7)."""
    for field in FINEWEB_SCHEMA:
        if field.name not in schema.names:
            raise InputFileError(f"{url}: missing column {field.name!r} (FineWeb-Edu files have {list(FINEWEB_SCHEMA.names)})")
        have = schema.field(field.name).type
        if pa.types.is_string(field.type):
            castable = pa.types.is_string(have) or pa.types.is_large_string(have)
        elif pa.types.is_floating(field.type):
            castable = pa.types.is_floating(have) or pa.types.is_integer(have)
        else:
            castable = pa.types.is_integer(have)
        if not castable:
            raise InputFileError(f"{url}: column {field.name!r} has type {have}, expected {field.type}")


def _open(f: SourceFile):
    fs, path = _filesystem(f.url)
    try:
        handle = fs.open(path, "rb")
        return handle, pq.ParquetFile(handle)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputFileError(f"{f.url}: not a readable Parquet file ({exc})") from exc


def check_files(files: list[SourceFile]) -> None:
    """Open every file and check its schema (footers only) before any row of any file is read,
    so a bad tenth file stops the stage before the first nine are turned into shards."""
    for f in files:
        handle, parquet = _open(f)
        with handle:
            check_schema(f.url, parquet.schema_arrow)


def _column(url: str, batch: pa.RecordBatch, name: str, rows_before: int) -> pa.Array:
    """One column in its FineWeb type (e.g. a uint64 past int64's range), the column named on failure."""
    try:
        return batch.column(name).cast(FINEWEB_SCHEMA.field(name).type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise InputFileError(
            f"{url}: column {name!r} (type {batch.column(name).type}) has a value that is not a valid "
            f"{FINEWEB_SCHEMA.field(name).type} in rows {rows_before}-{rows_before + batch.num_rows - 1}: {exc}"
        ) from exc


def iter_fineweb_batches(files: list[SourceFile], batch_rows: int = 1000) -> Iterator[tuple[str, pa.RecordBatch]]:
    """Yield (file url, batch in FINEWEB_SCHEMA), file by file, in order, after checking every file."""
    check_files(files)
    for f in files:
        handle, parquet = _open(f)
        with handle:
            check_schema(f.url, parquet.schema_arrow)  # again: the file may have changed since check_files
            rows = 0
            batches = parquet.iter_batches(batch_size=batch_rows, columns=list(FINEWEB_SCHEMA.names))
            while True:
                try:
                    batch = next(batches, None)
                except (pa.ArrowInvalid, OSError) as exc:
                    raise InputFileError(f"{f.url}: corrupt Parquet data after row {rows} ({exc})") from exc
                if batch is None:
                    break
                yield f.url, pa.RecordBatch.from_arrays([_column(f.url, batch, n, rows) for n in FINEWEB_SCHEMA.names], schema=FINEWEB_SCHEMA)
                rows += batch.num_rows
