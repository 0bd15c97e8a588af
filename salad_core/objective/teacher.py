"""The teacher: the original text LLM, frozen, as a module of its own.

Usage:
    from salad_core.objective.teacher import FrozenTeacher
    teacher = FrozenTeacher(load_llm(path))           # a separate load of the same checkpoint
    teacher = FrozenTeacher.copy_of(student.llm)      # or a deep copy taken BEFORE training starts
    t_hidden = teacher.hidden_states(batch.teacher_ids, batch.teacher_attention_mask)

design.md: the teacher is the frozen original checkpoint, never the student with shared weights.
So the wrapper owns its own parameters, switches their gradients off, stays in eval mode even when
a parent calls `.train()`, and runs under `torch.no_grad()`. (`no_grad`, not `inference_mode`:
inference tensors cannot be saved for the student's backward pass, and the KL needs the teacher's
probabilities there.) `check_not_sharing` catches a teacher built from the live student.
"""

import copy

import torch
from torch import nn


class FrozenTeacher(nn.Module):
    def __init__(self, llm: nn.Module):
        super().__init__()
        self.llm = llm
        self.llm.requires_grad_(False)
        self.llm.eval()

    @classmethod
    def copy_of(cls, llm: nn.Module) -> "FrozenTeacher":
        """A frozen teacher over a deep copy of `llm`, so the student can train the original without changing the teacher."""
        return cls(copy.deepcopy(llm))

    def train(self, mode: bool = True) -> "FrozenTeacher":
        """Ignore `mode` and stay in eval: no dropout, so the teacher gives the same outputs every step."""
        return super().train(False)  # always eval: no dropout, same outputs every step

    @property
    def head(self) -> nn.Module:
        """The LLM's output embedding (LM head), applied by the loss only at target positions."""
        return self.llm.get_output_embeddings()

    @torch.no_grad()
    def hidden_states(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Last-layer hidden states (after the final norm) on text, (B, L, hidden)."""
        out = self.llm.base_model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False)
        return out.last_hidden_state

    def check_not_sharing(self, student: nn.Module) -> None:
        """Raise if any teacher tensor is storage-shared with the student."""
        student_ptrs = {p.data_ptr() for p in student.parameters()}
        shared = [n for n, p in self.named_parameters() if p.data_ptr() in student_ptrs]
        if shared:
            raise ValueError(f"teacher shares {len(shared)} tensors with the student, e.g. {shared[0]}")
