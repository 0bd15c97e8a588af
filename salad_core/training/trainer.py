"""The training loop over a DeepSpeed engine: micro-batches from the mixture, logs, M / F, checkpoints.

Usage (what tasks/train_worker.py does; the engine comes from deepspeed.initialize):
    state = TrainState(step=0, tokens=0, data=mixture.state())
    train_loop(engine, mixture, cfg, rank, world, device, pad_id, held_out_batch, state, hooks)

Every process draws the same global stream of micro-batches and keeps those whose index is its
rank modulo the world size (`Mixture`); an optimizer step is `grad_accum` micro-batches per
process. `hooks.save(engine, state, kind)` is called on every process at the checkpoint steps
(`checkpoint_steps`); `hooks.log(record)` on rank 0 only. `hooks.alive()` is asked once per step
so a process whose launcher died stops instead of training on as an orphan.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol

import torch
import torch.distributed as dist

from salad_core.model.batch import DistillBatch, collate_samples
from salad_core.objective.metrics import forgetting, misalignment
from salad_core.training.config import TrainConfig
from salad_core.training.mixture import Mixture
from salad_core.training.sources import Item


@dataclass
class TrainState:
    step: int  # optimizer steps done
    tokens: int  # positions (frames + tokens) trained on, all processes together
    data: dict = field(default_factory=dict)  # Mixture.state() after `step`

    def as_dict(self) -> dict:
        """The state as a plain dict of `step`, `tokens` and `data`."""
        return {"step": self.step, "tokens": self.tokens, "data": self.data}


class Hooks(Protocol):
    def save(self, engine, state: TrainState, kind: str) -> None:
        """Persist a checkpoint of `engine` at `state`; `kind` is periodic, pre_decay or final (see checkpoint_steps). Called on every rank."""

    def log(self, record: dict) -> None:
        """Record one metrics line (train or eval); called on rank 0 only."""

    def alive(self) -> bool:
        """False once the launcher is gone, so the loop stops instead of training for nobody."""


def checkpoint_steps(cfg: TrainConfig) -> dict[int, str]:
    """{step: kind}: periodic (resume points), pre_decay (Stage I, kept for Stage II), final."""
    kinds = {s: "periodic" for s in range(cfg.save_every, cfg.steps, cfg.save_every)}
    if cfg.stage == 1 and 0 < cfg.pre_decay_step < cfg.steps:
        kinds[cfg.pre_decay_step] = "pre_decay"
    kinds[cfg.steps] = "final"
    return kinds


def collate_items(items: list[Item], pad_id: int) -> DistillBatch:
    """Pad and stack items into one DistillBatch on CPU; frames are per-item (n_frames, n_codebooks) codes or None for text."""
    frames = [None if it.frames is None else torch.from_numpy(it.frames) for it in items]
    return collate_samples([it.sample for it in items], frames=frames, pad_id=pad_id)


@torch.no_grad()
def held_out_metrics(module, batch: DistillBatch) -> dict:
    """M (Eq. 2) and F (Eq. 3), per-position means and the paper's sums, on the held-out batch."""
    student, teacher = module.student, module.teacher
    was_training = student.training
    student.eval()
    m = misalignment(student, batch)
    f = forgetting(teacher, student, batch)
    student.train(was_training)
    return {"M": m.mean, "F": f.mean, "M_total": m.total, "F_total": f.total, "positions": int(batch.target_ids.numel())}


def _mean_across(values: list[float], world: int, device) -> list[float]:
    t = torch.tensor(values, dtype=torch.float64, device=device)
    if world > 1:
        dist.all_reduce(t)
        t /= world
    return t.tolist()


def train_loop(
    engine,
    mixture: Mixture,
    cfg: TrainConfig,
    rank: int,
    world: int,
    device: torch.device,
    pad_id: int,
    held_out: DistillBatch | None,
    state: TrainState,
    hooks: Hooks,
) -> TrainState:
    """Run optimizer steps from `state.step` to cfg.steps, logging, evaluating and checkpointing on schedule; every rank draws
    all ranks' micro-batches so the mixture stays in lockstep."""
    module = engine.module
    kinds = checkpoint_steps(cfg)
    window = {"loss": 0.0, "kl": 0.0, "nll": 0.0, "micro": 0, "positions": 0, "started": time.perf_counter()}
    if held_out is not None and state.step == 0:
        metrics = held_out_metrics(module, held_out)
        if rank == 0:
            hooks.log({"kind": "eval", "step": 0, "tokens": 0, **metrics})
    while state.step < cfg.steps:
        if not hooks.alive():
            raise SystemExit(f"rank {rank}: the launcher is gone; stopping at step {state.step}")
        step_positions = 0
        for _ in range(cfg.grad_accum):
            mine = None
            for r in range(world):
                _, items = mixture.next_micro_batch()
                step_positions += sum(it.sample.n_positions for it in items)
                if r == rank:
                    mine = items
            batch = collate_items(mine, pad_id).to(device)
            out = engine(batch)
            engine.backward(out.loss)
            lrs = engine.get_lr()  # the LR this step uses (engine.step advances the schedule)
            engine.step()
            window["loss"] += float(out.loss.detach())
            window["kl"] += float(out.dist.detach())
            window["nll"] += float(out.nll.detach())
            window["micro"] += 1
        state.step += 1
        state.tokens += step_positions
        window["positions"] += step_positions
        state.data = mixture.state()
        if state.step % cfg.log_every == 0 or state.step == cfg.steps:
            loss, kl, nll = _mean_across([window[k] / window["micro"] for k in ("loss", "kl", "nll")], world, device)
            elapsed = time.perf_counter() - window["started"]
            record = {
                "kind": "train",
                "step": state.step,
                "tokens": state.tokens,
                "loss": loss,
                "kl": kl,
                "nll": nll,
                "tokens_per_s": window["positions"] / elapsed if elapsed > 0 else 0.0,
                "lr_adapter": float(lrs[0]),
                "lr_llm": float(lrs[1]),
                "grad_norm": float(engine.get_global_grad_norm() or 0.0),
            }
            if rank == 0:
                hooks.log(record)
            window = {"loss": 0.0, "kl": 0.0, "nll": 0.0, "micro": 0, "positions": 0, "started": time.perf_counter()}
        if held_out is not None and (state.step % cfg.eval_every == 0 or state.step == cfg.steps):
            metrics = held_out_metrics(module, held_out)
            if rank == 0:
                hooks.log({"kind": "eval", "step": state.step, "tokens": state.tokens, **metrics})
        if state.step in kinds:
            hooks.save(engine, state, kinds[state.step])
    return state
