"""A pretrained teacher (e.g. Qwen2.5-3B) as an artifact: a pointer plus file hashes, not weights.

Usage:
    from salad_core.teacher.pretrained import pretrained_teacher_table, load_pretrained_teacher
    table = pretrained_teacher_table("Qwen/Qwen2.5-3B", folder, hashes, model.config)
    model = load_pretrained_teacher(table, dtype="bfloat16", device="cuda")

Copying 6-15 GB of weights into the Parquet store would only duplicate an immutable checkpoint
that already sits on disk or in the HF cache. So the artifact records the path as configured,
the SHA-256 of every file that defines the model, and its config; loading resolves the path
again (offline), checks the hashes and refuses a checkpoint that changed since the artifact was
written. The price: the artifact is only loadable where that checkpoint is present.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import torch
from transformers import PretrainedConfig, PreTrainedModel

from salad_core.model.llm import load_llm
from salad_core.teacher.checkpoint import checkpoint_hashes, resolve_checkpoint

PRETRAINED_SCHEMA = pa.schema(
    [
        ("path", pa.string()),
        ("resolved_folder", pa.string()),
        ("files_sha256_json", pa.string()),
        ("config_json", pa.string()),
    ]
)


def pretrained_teacher_table(path: str, folder: Path, hashes: dict[str, str], config: PretrainedConfig) -> pa.Table:
    """The one-row PRETRAINED_SCHEMA table identifying a pretrained teacher: its path, resolved folder, per-file SHA-256s and full config."""
    row = {
        "path": path,
        "resolved_folder": str(folder),
        "files_sha256_json": json.dumps(hashes, sort_keys=True),
        "config_json": config.to_json_string(use_diff=False),
    }
    return pa.Table.from_pylist([row], schema=PRETRAINED_SCHEMA)


def load_pretrained_teacher(table: pa.Table, dtype: str = "bfloat16", device: str | torch.device = "cpu", verify: bool = True) -> PreTrainedModel:
    """The checkpoint the table points at, in eval mode; with ``verify`` its files must hash as recorded."""
    row = table.to_pylist()[0]
    folder = resolve_checkpoint(row["path"])
    if verify:
        recorded = json.loads(row["files_sha256_json"])
        found = checkpoint_hashes(folder)
        if found != recorded:
            changed = sorted(k for k in recorded.keys() | found.keys() if recorded.get(k) != found.get(k))
            raise ValueError(f"teacher checkpoint {row['path']} ({folder}) differs from the stored version: {changed}")
    return load_llm(str(folder), dtype=getattr(torch, dtype), device=device).eval()
