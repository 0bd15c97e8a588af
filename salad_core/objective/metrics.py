"""Misalignment M (Eq. 2), per-cluster M(c) and forgetting F (Eq. 3).

Usage:
    from salad_core.objective.metrics import misalignment, forgetting, cluster_misalignment
    m = misalignment(student, batch)            # KLSummary: .mean, .total, .per_sample, .per_position
    f = forgetting(teacher, student, batch)
    m_c = cluster_misalignment(per_sample_losses, cluster_ids)   # {cluster: mean loss}

M compares the SAME student on the transcript w and on the interleaved context c:
KL(P(.|w<=j) || P(.|c<=i)) at every text-next position i (j = its mapped teacher position).
F compares teacher and student, both on the transcript: KL(Q(.|w<=i) || P(.|w<=i)) at the
batch's teacher positions (all positions for a text-only batch). The paper writes both as sums;
`total` is that sum, `mean` the per-position average that is comparable across batch sizes.
M(c) for active selection is the mean distillation loss (teacher on text vs student on speech)
over a cluster's probe samples: feed it `per_sample_mean(out.kl_per_position, ...)` from the loss.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from salad_core.model.batch import DistillBatch
from salad_core.model.speech_lm import SpeechLM
from salad_core.objective.distill import chunked_position_losses, per_sample_mean
from salad_core.objective.teacher import FrozenTeacher


@dataclass
class KLSummary:
    per_position: torch.Tensor  # (N,)
    per_sample: torch.Tensor  # (B,) mean over each sample's positions (NaN if none)
    mean: float
    total: float


def _summarise(kl: torch.Tensor, batch: DistillBatch) -> KLSummary:
    return KLSummary(
        per_position=kl,
        per_sample=per_sample_mean(kl, batch.sample_index, batch.n_samples),
        mean=float(kl.mean()) if kl.numel() else 0.0,
        total=float(kl.sum()),
    )


def _kl(reference_hidden, reference_head, model_hidden, model_head, targets, chunk_size) -> torch.Tensor:
    kl, _ = chunked_position_losses(model_hidden, model_head, reference_hidden, reference_head, targets, 1.0, chunk_size, False)
    return kl


@torch.no_grad()
def misalignment(student: SpeechLM, batch: DistillBatch, chunk_size: int = 256) -> KLSummary:
    """Eq. 2: the student on text vs the same student on the interleaved context."""
    on_text = student.hidden_states(batch.teacher_ids, batch.teacher_attention_mask)
    on_mixed = student.hidden_states(**batch.student_inputs())
    kl = _kl(
        on_text.flatten(0, 1)[batch.teacher_index],
        student.head,
        on_mixed.flatten(0, 1)[batch.student_index],
        student.head,
        batch.target_ids,
        chunk_size,
    )
    return _summarise(kl, batch)


@torch.no_grad()
def forgetting(teacher: FrozenTeacher, student: SpeechLM, batch: DistillBatch, chunk_size: int = 256) -> KLSummary:
    """Eq. 3: teacher vs student, both reading the transcript."""
    t = teacher.hidden_states(batch.teacher_ids, batch.teacher_attention_mask)
    s = student.hidden_states(batch.teacher_ids, batch.teacher_attention_mask)
    idx = batch.teacher_index
    kl = _kl(t.flatten(0, 1)[idx], teacher.head, s.flatten(0, 1)[idx], student.head, batch.target_ids, chunk_size)
    return _summarise(kl, batch)


def cluster_misalignment(per_sample_loss: Sequence[float] | torch.Tensor, cluster_ids: Sequence[int]) -> dict[int, float]:
    """M(c): mean per-sample distillation loss of each cluster's probe samples (NaN samples skipped)."""
    losses = per_sample_loss.tolist() if isinstance(per_sample_loss, torch.Tensor) else list(per_sample_loss)
    if len(losses) != len(cluster_ids):
        raise ValueError("one loss per sample and one cluster id per sample")
    groups: dict[int, list[float]] = defaultdict(list)
    for loss, cluster in zip(losses, cluster_ids):
        if loss == loss:  # NaN: a probe sample without text-next positions
            groups[int(cluster)].append(float(loss))
    return {c: sum(v) / len(v) for c, v in sorted(groups.items())}
