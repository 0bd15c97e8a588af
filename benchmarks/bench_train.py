"""Throughput of the DeepSpeed trainer vs a plain PyTorch loop: same tiny model, batches and objective.

Run:
    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bench_train.py                 # CPU, tiny, ~2 min
    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bench_train.py --steps 30 --threads 2 --rounds 3

Both loops train the same student (the embedded teacher's shape: Qwen2, vocab 8192, hidden 128,
2 layers; the tiny adapter) from the same seeded weights on the same pre-collated batches
(interleaved speech 2/3, text replay 1/3, 1024 positions each) with the same AdamW groups, WSD
schedule, gradient clipping and SALAD loss (alpha 1): the plain loop calls loss.backward(),
clip_grad_norm_, optimizer.step(); the DeepSpeed loop calls engine(batch), engine.backward(),
engine.step() (ZeRO 0, fp32, one process; deepspeed.init_distributed in this process). Both
trainers are built from the same seed each round and step in turn on every batch (order flipped
each batch), so load from other processes on the shared 2-core machine hits both alike; the best
round of each and the per-round ratios are reported. Also: peak resident memory after each loop (CPU: the process high-water mark, so only its
growth is comparable), and the share of a plain-loop step spent in the teacher (its forward and the
LM head on the distilled positions, timed alone on the same batches).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
os.environ.setdefault("MASTER_PORT", str(29700 + os.getpid() % 200))
os.environ.setdefault("RANK", "0")
os.environ.setdefault("LOCAL_RANK", "0")
os.environ.setdefault("WORLD_SIZE", "1")

import numpy as np
import torch

from salad_core.interleave.builder import InterleaveConfig, interleave_utterance
from salad_core.interleave.records import AlignedUtterance
from salad_core.interleave.text_only import text_only_sample
from salad_core.mimi.weights import build_mimi
from salad_core.mimi.latents import CodesToLatents
from salad_core.model import llm_from_config, tiny_qwen2_config
from salad_core.objective.distill import DistillConfig
from salad_core.objective.teacher import FrozenTeacher
from salad_core.training.config import TrainConfig
from salad_core.training.deepspeed_config import deepspeed_config
from salad_core.training.schedule import wsd_factor
from salad_core.training.sources import Item, pack
from salad_core.training.student import DistillModule, build_student, param_groups
from salad_core.training.trainer import collate_items

VOCAB = 8192


def encoder(text: str) -> list[int]:
    return [hash(w) % (VOCAB - 8) + 8 for w in text.split()] or [8]


def make_batches(n: int, budget: int, seed: int) -> list:
    """n micro-batches: 2/3 interleaved speech (random codes, 0.4 s words), 1/3 text, packed to `budget`."""
    rng, out = random.Random(seed), []
    words = [f"w{i}" for i in range(5000)]
    cfg = InterleaveConfig(max_positions=256, speech_start_id=4, speech_end_id=5)

    class Stream:
        def __init__(self, speech: bool):
            self.speech, self.pending, self.rows = speech, None, type("R", (), {"label": "bench"})()

        def peek(self) -> Item:
            if self.pending is None:
                n_words = rng.randint(30, 60)
                text = " ".join(rng.choice(words) for _ in range(n_words))
                if self.speech:
                    utt = AlignedUtterance(
                        utterance_id=str(rng.random()),
                        words=text.split(),
                        word_starts=[0.4 * i for i in range(n_words)],
                        word_ends=[0.4 * i + 0.32 for i in range(n_words)],
                        n_frames=int(0.4 * n_words * 12.5) + 1,
                    )
                    codes = np.random.default_rng(rng.randint(0, 2**31)).integers(0, 2048, (utt.n_frames, 8)).astype(np.int16)
                    self.pending = Item(interleave_utterance(utt, encoder, cfg, seed=rng.randint(0, 2**31)), codes)
                else:
                    self.pending = Item(text_only_sample("t", encoder(text * 3), 256), None)
            return self.pending

        def advance(self) -> None:
            self.pending = None

    speech, text = Stream(True), Stream(False)
    for i in range(n):
        out.append(collate_items(pack(text if i % 3 == 2 else speech, budget, 16), pad_id=0))
    return out


def build(seed: int, decoder):
    torch.manual_seed(seed)
    llm = llm_from_config(tiny_qwen2_config(vocab_size=VOCAB, hidden=128, n_layer=2, mlp=384))
    teacher = FrozenTeacher.copy_of(llm)
    student = build_student(llm, "tiny", decoder, seed=seed)
    return DistillModule(student, teacher, DistillConfig())


def optimizer_for(module, cfg: TrainConfig):
    opt = torch.optim.AdamW(param_groups(module.student, cfg.lr_adapter, cfg.lr_llm, cfg.weight_decay), betas=cfg.betas, eps=cfg.eps)
    return opt, torch.optim.lr_scheduler.LambdaLR(opt, wsd_factor(cfg.warmup_steps, cfg.steps, cfg.decay_steps))


class PlainTrainer:
    def __init__(self, module, cfg):
        self.module, self.cfg = module, cfg
        self.opt, self.sched = optimizer_for(module, cfg)

    def step(self, batch) -> None:
        loss = self.module(batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.module.parameters(), self.cfg.grad_clip)
        self.opt.step()
        self.sched.step()
        self.opt.zero_grad(set_to_none=True)


class DeepSpeedTrainer:
    def __init__(self, module, cfg):
        import deepspeed

        opt, sched = optimizer_for(module, cfg)
        self.engine, *_ = deepspeed.initialize(model=module, optimizer=opt, lr_scheduler=sched, config=deepspeed_config(cfg, on_gpu=False, world_size=1))

    def step(self, batch) -> None:
        out = self.engine(batch)
        self.engine.backward(out.loss)
        self.engine.step()


def interleaved(trainers: dict, batches) -> dict[str, float]:
    """Seconds per trainer, stepping them in turn on each batch (order flipped every batch), so a
    change in machine load hits both alike."""
    spent = {name: 0.0 for name in trainers}
    names = list(trainers)
    for i, batch in enumerate(batches):
        for name in names if i % 2 == 0 else names[::-1]:
            started = time.perf_counter()
            trainers[name].step(batch)
            spent[name] += time.perf_counter() - started
    return spent


@torch.no_grad()
def teacher_time(module, batches) -> float:
    started = time.perf_counter()
    for b in batches:
        hidden = module.teacher.hidden_states(b.teacher_ids, b.teacher_attention_mask).flatten(0, 1)[b.teacher_index]
        module.teacher.head(hidden).float().log_softmax(-1)
    return time.perf_counter() - started


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--budget", type=int, default=1024)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    import deepspeed

    deepspeed.init_distributed(dist_backend="gloo")
    decoder = CodesToLatents(build_mimi(None, seed=0, num_codebooks=8).quantizer)
    batches = make_batches(args.steps, args.budget, seed=0)
    positions = sum(int(b.attention_mask.sum()) for b in batches)
    cfg = TrainConfig.preset("tiny").model_copy(update={"steps": args.steps, "warmup_steps": 2})
    rss = {"start": peak_rss_mb()}
    PlainTrainer(build(0, decoder), cfg).step(batches[0])  # warm-up: first-call allocations and kernels
    times = {"plain": [], "deepspeed": []}
    for _ in range(args.rounds):
        trainers = {"plain": PlainTrainer(build(0, decoder), cfg), "deepspeed": DeepSpeedTrainer(build(0, decoder), cfg)}
        for name, seconds in interleaved(trainers, batches).items():
            times[name].append(seconds)
        rss["after"] = peak_rss_mb()
        del trainers
    best = {k: min(v) for k, v in times.items()}
    t_teacher = min(teacher_time(build(0, decoder), batches) for _ in range(args.rounds))
    if torch.cuda.is_available():
        print(f"  peak GPU memory: {torch.cuda.max_memory_allocated() / 2**20:.0f} MiB")
    print(f"{args.steps} steps x {positions // args.steps} real positions per step, {args.threads} thread(s), best of {args.rounds}")
    for name in ("plain", "deepspeed"):
        print(f"  {name:9s}: {positions / best[name]:8.0f} positions/s   rounds {[round(t, 2) for t in times[name]]} s")
    ratios = [p / d for p, d in zip(times["plain"], times["deepspeed"])]
    print(f"  per-round deepspeed / plain throughput: {[round(r, 3) for r in ratios]}")
    print(f"  peak RSS: {rss['start']:.0f} MB before, {rss['after']:.0f} MB after both trainers (CPU high-water mark)")
    print(f"  deepspeed / plain throughput: {best['plain'] / best['deepspeed']:.3f}x (target >= 0.9x)")
    print(f"  teacher forward + head: {t_teacher:.2f} s = {100 * t_teacher / best['plain']:.1f}% of the plain loop's time")


if __name__ == "__main__":
    main()
