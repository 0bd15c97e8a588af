"""Any stored teacher table -> the model: trained weights (embedded) or a checkpoint pointer (pretrained).

Usage:
    from salad_core.teacher.teacher_table import table_to_teacher
    model = table_to_teacher(table, device="cuda")     # frozen use: wrap in FrozenTeacher

The two kinds are told apart by their columns, so a reader never needs the config that wrote them.
"""

from __future__ import annotations

import pyarrow as pa
import torch
from transformers import PreTrainedModel

from salad_core.teacher.pretrained import PRETRAINED_SCHEMA, load_pretrained_teacher
from salad_core.teacher.weights_table import WEIGHTS_SCHEMA, table_to_model


def table_to_teacher(table: pa.Table, device: str | torch.device = "cpu", dtype: str = "bfloat16") -> PreTrainedModel:
    """``dtype`` applies to a pretrained checkpoint only; trained weights keep their stored dtype."""
    names = set(table.schema.names)
    if names == set(WEIGHTS_SCHEMA.names):
        return table_to_model(table, device=device)
    if names == set(PRETRAINED_SCHEMA.names):
        return load_pretrained_teacher(table, dtype=dtype, device=device)
    raise ValueError(f"not a teacher table: columns {sorted(names)}")
