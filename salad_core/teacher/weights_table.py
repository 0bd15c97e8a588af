"""A model's state dict as an Arrow table (one row per tensor), and back, bit for bit.

Usage:
    from salad_core.teacher.weights_table import state_dict_to_table, table_to_model
    table = state_dict_to_table(model.state_dict(), model.config)
    same = table_to_model(table)               # identical tensors, identical logits

Rows are (name, dtype, shape, data) with the raw little-endian bytes of each tensor, so any dtype
(bfloat16 included, which NumPy cannot hold) survives exactly; `config_json` repeats the model's
config on every row (Parquet stores a repeated value once). Meant for the tiny teacher (MBs): a
real checkpoint stays on disk and its artifact records only where it is and its file hashes.
"""

from __future__ import annotations

import json
import sys

import pyarrow as pa
import torch
from transformers import AutoConfig, PretrainedConfig, PreTrainedModel

from salad_core.model.llm import llm_from_config

WEIGHTS_SCHEMA = pa.schema(
    [
        ("name", pa.string()),
        ("dtype", pa.string()),
        ("shape", pa.list_(pa.int64())),
        ("data", pa.large_binary()),
        ("config_json", pa.string()),
    ]
)


def _dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _tensor_bytes(tensor: torch.Tensor) -> bytes:
    flat = tensor.detach().to("cpu").contiguous().reshape(-1)
    raw = flat.view(torch.uint8).numpy().tobytes()
    if sys.byteorder != "little" and flat.element_size() > 1:  # pragma: no cover - every supported host is little-endian
        raise RuntimeError("weights tables are little-endian; this host is big-endian")
    return raw


def _bytes_tensor(data: bytes, dtype_name: str, shape: list[int]) -> torch.Tensor:
    dtype = getattr(torch, dtype_name)
    if not isinstance(dtype, torch.dtype):
        raise ValueError(f"unknown tensor dtype {dtype_name!r}")
    if not data:
        return torch.empty(shape, dtype=dtype)
    return torch.frombuffer(bytearray(data), dtype=torch.uint8).view(dtype).reshape(shape)


def state_dict_to_table(state_dict: dict[str, torch.Tensor], config: PretrainedConfig) -> pa.Table:
    """A state dict as WEIGHTS_SCHEMA rows (one per tensor, raw bytes, no pickle), each carrying the model config JSON."""
    config_json = config.to_json_string(use_diff=False)
    rows = [
        {"name": n, "dtype": _dtype_name(t.dtype), "shape": list(t.shape), "data": _tensor_bytes(t), "config_json": config_json} for n, t in state_dict.items()
    ]
    return pa.Table.from_pylist(rows, schema=WEIGHTS_SCHEMA)


def table_to_state_dict(table: pa.Table) -> dict[str, torch.Tensor]:
    """The state dict back from a weights table, tensors rebuilt from raw bytes with their stored dtype and shape."""
    names, dtypes, shapes, data = (table.column(c).to_pylist() for c in ("name", "dtype", "shape", "data"))
    return {n: _bytes_tensor(d, dt, s) for n, dt, s, d in zip(names, dtypes, shapes, data)}


def table_to_config(table: pa.Table) -> PretrainedConfig:
    """The model config stored in a weights table; ValueError unless every row carries the same config."""
    configs = set(table.column("config_json").unique().to_pylist())
    if len(configs) != 1:
        raise ValueError(f"a weights table carries exactly one config, found {len(configs)}")
    fields = json.loads(configs.pop())
    return AutoConfig.for_model(fields.pop("model_type"), **fields)


def table_to_model(table: pa.Table, device: str | torch.device = "cpu") -> PreTrainedModel:
    """The model the table was taken from, in eval mode, with exactly the stored tensors."""
    state_dict = table_to_state_dict(table)
    floats = {t.dtype for t in state_dict.values() if t.is_floating_point()}
    if len(floats) > 1:
        raise ValueError(f"mixed floating dtypes in one weights table: {sorted(map(str, floats))}")
    model = llm_from_config(table_to_config(table), dtype=floats.pop() if floats else torch.float32)
    missing, unexpected = model.load_state_dict(state_dict, strict=False)
    tied = set(getattr(model, "all_tied_weights_keys", None) or {}) if model.config.tie_word_embeddings else set()
    if unexpected or set(missing) - tied:
        missing_untied = sorted(set(missing) - tied)
        raise ValueError(f"weights table does not fit its config: missing {missing_untied}, unexpected {sorted(unexpected)}")
    return model.to(device).eval()
