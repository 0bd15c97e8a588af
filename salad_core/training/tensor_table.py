"""Checkpoint tensors as Arrow tables: chunked rows, bit-exact, verified, never unpickled.

Usage:
    from salad_core.training.tensor_table import tensors_to_table, table_to_tensors, files_to_table, table_to_files
    table = tensors_to_table(student_state, part="student")        # one or more rows per tensor
    digest = table_digest(table)                                   # goes in the manifest
    state = table_to_tensors(table, expected_digest=digest)        # raises TamperedCheckpoint on any change

Rows: (part, name, dtype, shape, chunk, n_chunks, data, sha256). A tensor's raw little-endian bytes
(any dtype, bfloat16 included, as in salad_core/teacher/weights_table.py) are cut into chunks of at
most `chunk_bytes`, so no Parquet row is huge; `sha256` is the tensor's (or file's) whole-bytes hash,
checked on load, and `table_digest` hashes every (part, name, sha256) so rows cannot be swapped,
dropped or re-hashed without the manifest noticing. Opaque files (DeepSpeed's engine state) use the
same rows with dtype "file". Loading is `torch.frombuffer` over verified bytes: no pickle is run;
a pickle or torch.save archive handed in as a weights file is refused by name.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import pyarrow as pa
import torch

from salad_core.teacher.weights_table import _bytes_tensor, _dtype_name, _tensor_bytes

TENSOR_SCHEMA = pa.schema(
    [
        ("part", pa.string()),
        ("name", pa.string()),
        ("dtype", pa.string()),
        ("shape", pa.list_(pa.int64())),
        ("chunk", pa.int32()),
        ("n_chunks", pa.int32()),
        ("data", pa.large_binary()),
        ("sha256", pa.string()),
    ]
)
CHUNK_BYTES = 64 << 20
FILE_DTYPE = "file"
_PICKLE_HEADS = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05", b"PK\x03\x04")


class TamperedCheckpoint(ValueError):
    """A checkpoint table whose bytes do not match the hashes it was committed with, or not a tensor table."""


def _rows(part: str, name: str, dtype: str, shape: list[int], raw: bytes, chunk_bytes: int) -> Iterable[dict]:
    sha = hashlib.sha256(raw).hexdigest()
    n_chunks = max(1, -(-len(raw) // chunk_bytes))
    for i in range(n_chunks):
        yield {
            "part": part,
            "name": name,
            "dtype": dtype,
            "shape": shape,
            "chunk": i,
            "n_chunks": n_chunks,
            "data": raw[i * chunk_bytes : (i + 1) * chunk_bytes],
            "sha256": sha,
        }


def tensors_to_table(state: dict[str, torch.Tensor], part: str, chunk_bytes: int = CHUNK_BYTES) -> pa.Table:
    """A state dict as TENSOR_SCHEMA rows of raw bytes, chunked to `chunk_bytes` and hashed per tensor; no pickle, so loading cannot run code."""
    rows = [r for name, t in state.items() for r in _rows(part, name, _dtype_name(t.dtype), list(t.shape), _tensor_bytes(t), chunk_bytes)]
    return pa.Table.from_pylist(rows, schema=TENSOR_SCHEMA)


def files_to_table(files: dict[str, bytes], part: str, chunk_bytes: int = CHUNK_BYTES) -> pa.Table:
    """Opaque files (bytes that are not tensors) as TENSOR_SCHEMA rows under `part`, in name order, chunked and hashed like tensors."""
    rows = [r for name, raw in sorted(files.items()) for r in _rows(part, name, FILE_DTYPE, [len(raw)], raw, chunk_bytes)]
    return pa.Table.from_pylist(rows, schema=TENSOR_SCHEMA)


def table_digest(table: pa.Table) -> str:
    """Hash of the sorted (part, name, sha256) entries: what the manifest records."""
    entries = sorted(set(zip(*(table.column(c).to_pylist() for c in ("part", "name", "sha256")))))
    return hashlib.sha256("\n".join("|".join(e) for e in entries).encode()).hexdigest()


def check_schema(table: pa.Table, source: str) -> None:
    """TamperedCheckpoint unless the table has exactly the TENSOR_SCHEMA columns; `source` names the table in the error."""
    if set(table.schema.names) != set(TENSOR_SCHEMA.names):
        raise TamperedCheckpoint(f"{source} is not a checkpoint tensor table (columns {sorted(table.schema.names)}): refused")


def _assembled(table: pa.Table, source: str, expected_digest: str | None) -> Iterable[tuple[str, str, list[int], bytes]]:
    check_schema(table, source)
    if expected_digest is not None and table_digest(table) != expected_digest:
        raise TamperedCheckpoint(f"{source}: its tensor list or hashes differ from the committed manifest (tampered): refused")
    cols = {c: table.column(c).to_pylist() for c in ("name", "dtype", "shape", "chunk", "n_chunks", "data", "sha256")}
    parts: dict[str, list] = {}
    for i, name in enumerate(cols["name"]):
        parts.setdefault(name, []).append(i)
    for name, idx in parts.items():
        idx.sort(key=lambda i: cols["chunk"][i])
        first = idx[0]
        if [cols["chunk"][i] for i in idx] != list(range(cols["n_chunks"][first])):
            raise TamperedCheckpoint(f"{source}: tensor {name!r} has chunks {[cols['chunk'][i] for i in idx]} of {cols['n_chunks'][first]}: refused")
        raw = b"".join(cols["data"][i] for i in idx)
        if hashlib.sha256(raw).hexdigest() != cols["sha256"][first]:
            if raw.startswith(_PICKLE_HEADS):
                raise TamperedCheckpoint(f"{source}: tensor {name!r} holds a pickle / torch.save archive, not raw tensor bytes: refused (never unpickled)")
            raise TamperedCheckpoint(f"{source}: tensor {name!r} does not match its SHA-256 (tampered or corrupt): refused")
        yield name, cols["dtype"][first], cols["shape"][first], raw


def table_to_tensors(table: pa.Table, source: str, expected_digest: str | None = None) -> dict[str, torch.Tensor]:
    """Tensors back from a tensor table after checking chunks, SHA-256s, dtype and byte counts (and the manifest digest when
    given); TamperedCheckpoint on any mismatch."""
    out = {}
    for name, dtype, shape, raw in _assembled(table, source, expected_digest):
        if dtype == FILE_DTYPE:
            raise TamperedCheckpoint(f"{source}: {name!r} is an opaque file, not a tensor")
        torch_dtype = getattr(torch, dtype, None)
        if not isinstance(torch_dtype, torch.dtype):
            raise TamperedCheckpoint(f"{source}: tensor {name!r} has unknown dtype {dtype!r}")
        expected = torch.Size(shape).numel() * torch.empty(0, dtype=torch_dtype).element_size()
        if expected != len(raw):
            raise TamperedCheckpoint(f"{source}: tensor {name!r} has {len(raw)} bytes, shape {shape} {dtype} needs {expected}")
        out[name] = _bytes_tensor(raw, dtype, shape)
    return out


def table_to_files(table: pa.Table, source: str, expected_digest: str | None = None) -> dict[str, bytes]:
    """The opaque files stored in a tensor table, verified like tensors; TamperedCheckpoint on any mismatch."""
    return {name: raw for name, dtype, _, raw in _assembled(table, source, expected_digest) if dtype == FILE_DTYPE}
