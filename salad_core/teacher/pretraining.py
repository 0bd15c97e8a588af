"""Pretraining the tiny teacher: a seeded tiny Qwen2, AdamW, warmup + cosine, fixed data order.

Usage:
    from salad_core.teacher.pretraining import new_tiny_teacher, pretrain
    model = new_tiny_teacher(config, vocab_size=len(tokenizer))
    result = pretrain(model, token_windows(streams.train, config.seq_len), config)
    result.final_loss, result.tokens_per_s

Deterministic on CPU: the weights are drawn right after ``torch.manual_seed(config.seed)`` and
the window order comes from a generator seeded with the same seed (a fresh permutation per
epoch), so the same corpus, tokenizer and config give the same loss curve. Nothing here touches
the global RNG after initialisation.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from transformers import PreTrainedModel

from salad_core.model.llm import llm_from_config, tiny_qwen2_config
from salad_core.teacher.config import TeacherConfig
from salad_core.teacher.lr_schedule import warmup_cosine


@dataclass
class PretrainResult:
    steps: int
    tokens: int
    wall_time_s: float
    losses: list[float] = field(default_factory=list)

    @property
    def final_loss(self) -> float:
        """Loss of the last step (NaN when no step ran)."""
        return self.losses[-1] if self.losses else float("nan")

    @property
    def final_loss_smoothed(self) -> float:
        """Mean loss of the last 20 steps: less noisy than one batch."""
        tail = self.losses[-20:]
        return sum(tail) / len(tail) if tail else float("nan")

    @property
    def tokens_per_s(self) -> float:
        """Tokens per second of wall time over the run; 0.0 when no time was measured."""
        return self.tokens / self.wall_time_s if self.wall_time_s > 0 else 0.0


def new_tiny_teacher(config: TeacherConfig, vocab_size: int) -> PreTrainedModel:
    """A freshly initialised tiny Qwen2 (float32), seeded by ``config.seed``."""
    qwen2 = tiny_qwen2_config(
        vocab_size=vocab_size,
        hidden=config.hidden,
        n_layer=config.n_layer,
        n_head=config.n_head,
        n_kv_head=config.n_kv_head,
        mlp=config.mlp,
        max_positions=config.max_positions,
        tie_word_embeddings=config.tie_word_embeddings,
    )
    torch.manual_seed(config.seed)
    return llm_from_config(qwen2, dtype=torch.float32, device=config.device)


def window_batches(num_windows: int, batch_size: int, seed: int) -> Iterator[torch.Tensor]:
    """Endless batches of window indices: one seeded permutation per epoch, epochs back to back."""
    generator = torch.Generator().manual_seed(seed)
    pending = torch.empty(0, dtype=torch.int64)
    while True:
        while pending.numel() < batch_size:
            pending = torch.cat([pending, torch.randperm(num_windows, generator=generator)])
        yield pending[:batch_size]
        pending = pending[batch_size:]


def make_optimizer(model: torch.nn.Module, config: TeacherConfig) -> torch.optim.AdamW:
    """AdamW with weight decay on matrices only: decaying norm gains pulls them towards zero for no benefit."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": config.weight_decay},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=config.lr, betas=(0.9, 0.95), eps=1e-8)


def train_step(model, optimizer, scheduler, batch: torch.Tensor, grad_clip: float) -> float:
    """One optimizer step on a batch of windows; returns the batch's mean next-token loss."""
    logits = model(input_ids=batch[:, :-1]).logits
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    scheduler.step()
    return loss.item()


def pretrain(
    model: PreTrainedModel,
    windows: torch.Tensor,
    config: TeacherConfig,
    log: Callable[[int, float, float], None] | None = None,
) -> PretrainResult:
    """``config.train_steps`` steps of next-token prediction over ``windows`` (n, seq_len + 1).

    ``log(step, loss, lr)`` is called every ``config.log_every`` steps and at the last step.
    """
    optimizer = make_optimizer(model, config)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, warmup_cosine(config.warmup_steps, config.train_steps, config.min_lr_ratio))
    batches = window_batches(windows.shape[0], config.batch_size, config.seed)
    model.train()
    result = PretrainResult(steps=0, tokens=0, wall_time_s=0.0)
    started = time.perf_counter()
    for step in range(config.train_steps):
        batch = windows[next(batches)].to(config.device)
        lr = scheduler.get_last_lr()[0]
        result.losses.append(train_step(model, optimizer, scheduler, batch, config.grad_clip))
        result.steps += 1
        result.tokens += batch[:, 1:].numel()
        if log is not None and ((step + 1) % config.log_every == 0 or step + 1 == config.train_steps):
            log(step + 1, result.losses[-1], lr)
    result.wall_time_s = time.perf_counter() - started
    model.eval()
    return result
