"""The trainable student, its optimizer groups, and the module DeepSpeed wraps.

Usage:
    from salad_core.training.student import build_student, param_groups, DistillModule
    student = build_student(llm, "tiny", codes_to_latents, seed=0)   # llm: a fresh copy of the teacher's weights
    module = DistillModule(student, FrozenTeacher(teacher_llm), DistillConfig())
    out = module(batch)                                             # DistillLoss; out.loss.backward()

The teacher and Mimi's quantizer are held outside `parameters()` (object attributes, not
submodules): DeepSpeed, the optimizer and the checkpoint only ever see the student. The teacher is
a separate load of the original weights, never the student's tensors (checked at construction).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from salad_core.model.adapter import SpeechAdapter
from salad_core.model.batch import DistillBatch
from salad_core.model.config import AdapterConfig
from salad_core.model.speech_lm import SpeechLM
from salad_core.objective.distill import DistillConfig, DistillLoss
from salad_core.objective.step import batch_loss
from salad_core.objective.teacher import FrozenTeacher


def build_student(llm: nn.Module, adapter_preset: str, codes_to_latents=None, seed: int = 0) -> SpeechLM:
    """SpeechLM = `llm` (trainable, from the teacher's weights) + a seeded adapter sized for it."""
    cfg = AdapterConfig.preset(adapter_preset).for_llm(llm.config)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        adapter = SpeechAdapter(cfg)
    llm.requires_grad_(True)
    llm.train()
    student = SpeechLM(llm, adapter.to(dtype=next(llm.parameters()).dtype), codes_to_latents)
    return student


def param_groups(student: SpeechLM, lr_adapter: float, lr_llm: float, weight_decay: float) -> list[dict]:
    """Two AdamW groups, adapter first: each has its own peak LR (the schedule scales both)."""
    return [
        {"name": "adapter", "params": [p for p in student.adapter.parameters() if p.requires_grad], "lr": lr_adapter, "weight_decay": weight_decay},
        {"name": "llm", "params": [p for p in student.llm.parameters() if p.requires_grad], "lr": lr_llm, "weight_decay": weight_decay},
    ]


class _Checkpointed(nn.Module):
    """Recompute a layer in backward instead of keeping its activations."""

    def __init__(self, layer: nn.Module):
        super().__init__()
        self.layer = layer

    def forward(self, *args):
        if torch.is_grad_enabled():
            return checkpoint(self.layer, *args, use_reentrant=False)
        return self.layer(*args)


def enable_activation_checkpointing(student: SpeechLM) -> None:
    """Per-layer recomputation in the LLM (transformers) and in the adapter's decoder layers.

    The adapter layers are wrapped in place; their parameter names gain a `.layer` level, so this
    is applied after weights are loaded and the exported state dict is taken from `export_state`.
    """
    llm, kwargs = student.llm, {"use_reentrant": False}
    if hasattr(llm, "activation_checkpointing_enable"):  # transformers >= 5 (the old name is deprecated)
        llm.activation_checkpointing_enable(activation_checkpointing_kwargs=kwargs)
    else:
        llm.gradient_checkpointing_enable(gradient_checkpointing_kwargs=kwargs)
    layers = student.adapter.layers
    for i, layer in enumerate(layers):
        if not isinstance(layer, _Checkpointed):
            layers[i] = _Checkpointed(layer)


def export_state(student: SpeechLM) -> dict[str, torch.Tensor]:
    """The student's state dict with the names of an unwrapped SpeechLM (activation checkpointing removed)."""

    def plain(name: str) -> str:
        prefix, _, rest = name.partition(".layer.")
        return f"{prefix}.{rest}" if rest and prefix.startswith("adapter.layers.") else name

    return {plain(name): t for name, t in student.state_dict().items()}


class DistillModule(nn.Module):
    """What DeepSpeed trains: the student; forward(batch) -> the SALAD loss against the frozen teacher."""

    def __init__(self, student: SpeechLM, teacher: FrozenTeacher, distill: DistillConfig):
        super().__init__()
        teacher.check_not_sharing(student)
        self.student = student
        object.__setattr__(self, "teacher", teacher)  # not a submodule: never trained or saved
        self.distill = distill

    def forward(self, batch: DistillBatch) -> DistillLoss:
        """The SALAD distillation loss of the student against the frozen teacher; on text-only batches adds a zero term so every
        adapter parameter still gets a gradient, as ZeRO needs."""
        out = batch_loss(self.student, self.teacher, batch, self.distill)
        if not bool(batch.speech_mask.any()):
            # A text-only batch leaves the adapter out of the graph. Every parameter must get a
            # gradient on every micro-batch (zero here): ZeRO reduces gradients bucket by bucket
            # and all processes must reduce the same ones, whatever batch kind each drew.
            out.loss = out.loss + 0.0 * sum(p.sum() for p in self.student.adapter.parameters())
        return out
