"""Rows of a benchmark's published files, local or on S3: JSONL, JSON arrays, Parquet, CSV.

Usage:
    from salad_core.evaluation.sources import resolve_files, read_records, read_lines
    for location, record in read_records(resolve_files(["s3://bench/piqa/valid.jsonl"])):
        ...   # location is "<file>:<line>" (or ":row <n>" for Parquet), record a dict

Files are named by globs as in the FineWeb reader (fsspec; listings refreshed each call so a file
added to a bucket is seen by a long-lived worker). A line that is not JSON is not skipped: it is
yielded as a `BadRecord` so the loader can quarantine it with the reason.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass

import fsspec
import pyarrow.parquet as pq


class BenchmarkFileError(ValueError):
    """A benchmark file cannot be read at all; the message names the file."""


@dataclass(frozen=True)
class BadRecord:
    reason: str
    raw: str


def _filesystem(pattern: str):
    fs, path = fsspec.core.url_to_fs(pattern)
    fs.invalidate_cache()
    return fs, path


def resolve_files(patterns: list[str]) -> list[str]:
    """Sorted file urls for the globs; a pattern that matches nothing is an error naming it."""
    urls: list[str] = []
    for pattern in patterns:
        fs, path = _filesystem(pattern)
        matches = sorted(fs.glob(path)) if any(c in path for c in "*?[") else ([path] if fs.isfile(path) else [])
        if not matches:
            raise BenchmarkFileError(f"{pattern}: no such file (or the glob matched nothing)")
        protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
        urls += [m if protocol == "file" else f"{protocol}://{m}" for m in matches]
    return list(dict.fromkeys(urls))


def file_identity(url: str) -> dict:
    """Size and ETag/mtime: part of the items fingerprint, so an edited file makes a new version."""
    fs, path = _filesystem(url)
    info = fs.info(path)
    tag = str(info.get("ETag") or info.get("etag") or info.get("mtime") or info.get("LastModified") or "")
    return {"url": url, "size": int(info.get("size") or 0), "etag": tag.strip('"')}


def read_lines(url: str) -> list[str]:
    """All lines of a text file at a local path or fsspec url, UTF-8, without line endings."""
    fs, path = _filesystem(url)
    with fs.open(path, "rt", encoding="utf-8") as handle:
        return handle.read().splitlines()


def read_records(urls: list[str]) -> Iterator[tuple[str, dict | BadRecord]]:
    """(location, record) pairs for each row of the files in order, by extension (parquet, csv/tsv, json, else JSON lines);
    malformed rows come as BadRecord, not exceptions."""
    for url in urls:
        name = url.lower()
        if name.endswith(".parquet"):
            yield from _parquet_records(url)
        elif name.endswith((".csv", ".tsv")):
            yield from _csv_records(url, "\t" if name.endswith(".tsv") else ",")
        elif name.endswith(".json"):
            yield from _json_records(url)
        else:  # .jsonl, .jsonl.gz-less JSON lines, the original releases' names (valid.jsonl, dev.jsonl)
            yield from _jsonl_records(url)


def _jsonl_records(url: str) -> Iterator[tuple[str, dict | BadRecord]]:
    for n, line in enumerate(read_lines(url), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield f"{url}:{n}", BadRecord(f"not JSON: {exc.msg}", line[:500])
            continue
        yield f"{url}:{n}", value if isinstance(value, dict) else BadRecord("not a JSON object", line[:500])


def _json_records(url: str) -> Iterator[tuple[str, dict | BadRecord]]:
    fs, path = _filesystem(url)
    with fs.open(path, "rt", encoding="utf-8") as handle:
        text = handle.read()
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        yield from _jsonl_records(url)  # many ".json" benchmark files are JSON lines
        return
    rows = value if isinstance(value, list) else value.get("data", value.get("rows")) if isinstance(value, dict) else None
    if not isinstance(rows, list):
        raise BenchmarkFileError(f"{url}: a JSON file must hold a list of rows (or {{'data': [...]}})")
    for n, row in enumerate(rows):
        yield f"{url}:row {n}", row if isinstance(row, dict) else BadRecord("not a JSON object", str(row)[:500])


def _parquet_records(url: str) -> Iterator[tuple[str, dict]]:
    fs, path = _filesystem(url)
    with fs.open(path, "rb") as handle:
        try:
            parquet = pq.ParquetFile(handle)
        except Exception as exc:  # pyarrow raises several types for a non-Parquet file
            raise BenchmarkFileError(f"{url}: not a readable Parquet file ({exc})") from exc
        n = 0
        for batch in parquet.iter_batches(batch_size=256):
            for row in batch.to_pylist():
                yield f"{url}:row {n}", row
                n += 1


def _csv_records(url: str, delimiter: str) -> Iterator[tuple[str, dict]]:
    fs, path = _filesystem(url)
    with fs.open(path, "rb") as handle:
        text = handle.read().decode("utf-8-sig")
    for n, row in enumerate(csv.DictReader(io.StringIO(text), delimiter=delimiter), start=2):
        yield f"{url}:{n}", row
