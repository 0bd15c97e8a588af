"""The SALAD objective on text-next positions: L = alpha * L_DIST + (1 - alpha) * L_NLL.

Usage:
    from salad_core.objective.distill import DistillConfig, distillation_loss
    out = distillation_loss(s_hidden, student.head, t_hidden, teacher.head, targets, DistillConfig())
    out.loss.backward()          # out.dist, out.nll: batch means; out.kl / out.nll_per_position

Inputs are hidden states already gathered at the mapped positions (N, hidden), not logits: the
(N x vocabulary) logits of a 152k-vocabulary model are the biggest tensors of a step, so logits,
log-softmaxes and the KL are computed `chunk_size` positions at a time, and (when gradients are
needed) each chunk is recomputed in the backward pass (activation checkpointing), so at most one
chunk of logits is alive at any time, forward or backward. The teacher's logits are also made
inside the chunk, under no_grad.

Definitions (design.md, section 1):
- L_DIST: forward KL(teacher || student) over the full vocabulary, per position.
- temperature T: both distributions softened by T; the KL is multiplied by T^2 so its gradient
  scale does not shrink with T (Hinton et al.). L_NLL always uses T = 1: it is the likelihood of
  the real next token, which temperature does not change.
- reduction: mean over all text-next positions of the batch (token-weighted) **(choice)**; the
  per-position values are returned for other reductions (per sample, per cluster).
Softmaxes run in at least float32 (float64 stays float64) whatever the model dtype.
"""

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field
from torch.utils.checkpoint import checkpoint

Head = Callable[[torch.Tensor], torch.Tensor]


class DistillConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    alpha: float = Field(1.0, ge=0.0, le=1.0)  # the paper uses 1 in both stages
    temperature: float = Field(1.0, gt=0.0)
    chunk_size: int = Field(256, ge=1)  # positions per chunk of logits
    checkpoint_chunks: bool = True  # recompute chunk logits in backward instead of storing them


@dataclass
class DistillLoss:
    loss: torch.Tensor  # scalar, differentiable
    dist: torch.Tensor  # scalar mean KL (T^2-scaled), differentiable
    nll: torch.Tensor  # scalar mean NLL, differentiable
    kl_per_position: torch.Tensor  # (N,)
    nll_per_position: torch.Tensor  # (N,)

    @property
    def n_positions(self) -> int:
        """Text-next positions the loss was computed over (N, the length of the per-position tensors)."""
        return self.kl_per_position.shape[0]


def _softmax_dtype(x: torch.Tensor) -> torch.dtype:
    return torch.promote_types(x.dtype, torch.float32)


def kl_divergence(teacher_log_probs: torch.Tensor, student_log_probs: torch.Tensor) -> torch.Tensor:
    """KL(p || q) per row from log-probabilities; rows where p = 0 contribute exactly 0."""
    p = teacher_log_probs.exp()
    terms = torch.where(p > 0, p * (teacher_log_probs - student_log_probs), torch.zeros_like(p))
    return terms.sum(-1)


def position_losses(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    targets: torch.Tensor,
    temperature: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-position (T^2-scaled KL(teacher || student), NLL of targets) from logits (N, V)."""
    s = student_logits.to(_softmax_dtype(student_logits))
    t = teacher_logits.to(_softmax_dtype(teacher_logits))
    if temperature == 1.0:
        s_log = F.log_softmax(s, dim=-1)
        kl = kl_divergence(F.log_softmax(t, dim=-1), s_log)
    else:
        kl = kl_divergence(F.log_softmax(t / temperature, dim=-1), F.log_softmax(s / temperature, dim=-1))
        kl = kl * temperature**2
        s_log = F.log_softmax(s, dim=-1)
    nll = -s_log.gather(-1, targets.long().unsqueeze(-1)).squeeze(-1)
    return kl, nll


def chunked_position_losses(
    student_hidden: torch.Tensor,
    student_head: Head,
    teacher_hidden: torch.Tensor,
    teacher_head: Head,
    targets: torch.Tensor,
    temperature: float = 1.0,
    chunk_size: int = 256,
    checkpoint_chunks: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """`position_losses` from hidden states, `chunk_size` positions at a time (see module doc)."""

    def chunk_losses(s_h, t_h, y):
        with torch.no_grad():
            t_logits = teacher_head(t_h)
        return position_losses(student_head(s_h), t_logits, y, temperature)

    recompute = checkpoint_chunks and torch.is_grad_enabled()
    kls, nlls = [], []
    for start in range(0, student_hidden.shape[0], chunk_size):
        part = slice(start, start + chunk_size)
        args = (student_hidden[part], teacher_hidden[part], targets[part])
        if recompute:
            kl, nll = checkpoint(chunk_losses, *args, use_reentrant=False)
        else:
            kl, nll = chunk_losses(*args)
        kls.append(kl)
        nlls.append(nll)
    if not kls:
        empty = student_hidden.new_zeros(0, dtype=_softmax_dtype(student_hidden))
        return empty, empty
    return torch.cat(kls), torch.cat(nlls)


def combine(kl: torch.Tensor, nll: torch.Tensor, alpha: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(loss, mean KL, mean NLL); an empty batch gives exact zeros (no NaN from 0/0)."""
    if kl.numel() == 0:
        zero = kl.sum() + nll.sum()
        return zero, zero, zero
    dist, nll_mean = kl.mean(), nll.mean()
    return alpha * dist + (1.0 - alpha) * nll_mean, dist, nll_mean


def distillation_loss(
    student_hidden: torch.Tensor,
    student_head: Head,
    teacher_hidden: torch.Tensor,
    teacher_head: Head,
    targets: torch.Tensor,
    config: DistillConfig = DistillConfig(),
) -> DistillLoss:
    """The SALAD loss over N text-next positions, from gathered hidden states (N, hidden)."""
    kl, nll = chunked_position_losses(
        student_hidden,
        student_head,
        teacher_hidden,
        teacher_head,
        targets,
        config.temperature,
        config.chunk_size,
        config.checkpoint_chunks,
    )
    loss, dist, nll_mean = combine(kl, nll, config.alpha)
    if kl.numel() == 0:
        # keep the graph connected to the student so backward() still works on an empty batch
        loss = loss + 0.0 * student_hidden.sum()
    return DistillLoss(loss=loss, dist=dist, nll=nll_mean, kl_per_position=kl, nll_per_position=nll)


def per_sample_mean(values: torch.Tensor, sample_index: torch.Tensor, n_samples: int) -> torch.Tensor:
    """Mean of per-position values per sample, (n_samples,); NaN for a sample with no positions."""
    values = values.detach()
    sums = values.new_zeros(n_samples).index_add_(0, sample_index, values)
    counts = values.new_zeros(n_samples).index_add_(0, sample_index, torch.ones_like(values))
    return sums / counts
