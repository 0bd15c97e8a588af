"""Evaluation scoring throughput (batched vs a plain per-option loop) and the tiny teacher's bundled_mc accuracy.

Run it (CPU; trains the tiny teacher exactly as tasks/teacher.py does, ~1-3 min on 2 cores, then scores):
    .venv/bin/python benchmarks/bench_eval.py
    .venv/bin/python benchmarks/bench_eval.py --threads 2 --items 280 --speed-items 56 --shots 0 5
    .venv/bin/python benchmarks/bench_eval.py --cache /tmp/tiny-teacher    # train once, reuse on later runs

What it prints:
  1. accuracy of the tiny teacher on text on the bundled multiple-choice set (acc and acc_norm, per
     shot count, per topic), against chance (1 / options) and against an untrained model of the same shape;
  2. items scored per second on the same items and model:
       batched  - salad_core.evaluation.scorer.score_items (length-sorted batches, head only at the options' tokens)
       loop     - a plain loop: one full forward per option, full-vocabulary log-softmax, sum of the option's tokens
     Both must agree on every log-probability (checked) and batching must be faster.
The teacher is trained on the 3,000-document bundled corpus (seed 0); the items come from the
held-out stream (salad_core/evaluation/bundled_mc.py), so none of their paragraphs is in training.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch

from salad_core.corpus.bundled import generate_bundled_corpus
from salad_core.evaluation import EvalConfig
from salad_core.evaluation.bundled_mc import bundled_items
from salad_core.evaluation.loglik import TextLM
from salad_core.evaluation.metrics import summarize
from salad_core.evaluation.scorer import build_requests, score_items
from salad_core.teacher import (
    TeacherConfig,
    corpus_token_streams,
    new_tiny_teacher,
    pretrain,
    split_documents,
    token_windows,
)
from salad_core.teacher.tokenizer import train_bpe_tokenizer


def cached_teacher(config: TeacherConfig, cache: str | None):
    """(tokenizer, trained, untrained) from `cache` if saved there, else trained (and saved when `cache` is set)."""
    from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast

    if cache and os.path.isdir(os.path.join(cache, "trained")):
        load = lambda name: AutoModelForCausalLM.from_pretrained(os.path.join(cache, name), local_files_only=True).eval()
        print(f"teacher: loaded from {cache}")
        return PreTrainedTokenizerFast.from_pretrained(os.path.join(cache, "tokenizer")), load("trained"), load("untrained")
    tok, model, untrained = train_teacher(config)
    if cache:
        tok.save_pretrained(os.path.join(cache, "tokenizer"))
        model.save_pretrained(os.path.join(cache, "trained"))
        untrained.save_pretrained(os.path.join(cache, "untrained"))
    return tok, model, untrained


def train_teacher(config: TeacherConfig):
    """The embedded teacher of tasks/teacher.py: BPE on the training split, tiny Qwen2, `config.train_steps` steps."""
    corpus = generate_bundled_corpus(3000, seed=0)
    tok = train_bpe_tokenizer(
        split_documents(corpus.to_batches(1024), config.held_out_fraction, held_out=False), config.vocab_size, config.min_frequency, config.max_positions
    )
    streams = corpus_token_streams(corpus.to_batches(1024), tok, config.held_out_fraction, config.max_eval_tokens)
    untrained = new_tiny_teacher(config, len(tok)).eval()
    model = new_tiny_teacher(config, len(tok))
    started = time.perf_counter()
    result = pretrain(model, token_windows(streams.train, config.seq_len), config)
    print(f"teacher: {result.steps} steps, {result.tokens} tokens, final loss {result.final_loss_smoothed:.3f}, {time.perf_counter() - started:.0f} s")
    return tok, model.eval(), untrained


@torch.no_grad()
def plain_loop(model, tokenizer, items, config) -> list[list[float]]:
    out = []
    for item in items:
        reqs, _ = build_requests(tokenizer, item, items, config)
        scores = []
        for r in reqs:
            ids = torch.tensor([r.prefix + r.continuation])
            logprobs = model(input_ids=ids[:, :-1]).logits[0].float().log_softmax(-1)
            n = len(r.continuation)
            positions = range(ids.shape[1] - 1 - n, ids.shape[1] - 1)
            scores.append(float(sum(logprobs[p, ids[0, p + 1]] for p in positions)))
        out.append(scores)
    return out


def accuracy_report(name, model, tok, items, shots, max_positions):
    for n_shots in shots:
        config = EvalConfig(n_shots=n_shots, max_positions=max_positions, batch_size=16)
        started = time.perf_counter()
        scores = score_items(TextLM(model), tok, items, config)
        rows = [
            {
                "checkpoint": name,
                "benchmark": "bundled_mc",
                "view": "teacher_text",
                "topic": s.topic,
                "correct_norm": s.correct_norm,
                "correct_raw": s.correct_raw,
            }
            for s in scores
        ]
        norm = {r.topic: r for r in summarize(rows, "acc_norm")}
        raw = summarize(rows, "acc", by_topic=False)[0]
        used = sum(s.n_shots for s in scores) / len(scores)
        print(
            f"{name}, {n_shots}-shot (mean {used:.1f} used, budget {max_positions}): acc {100 * raw.teacher_text:.1f}%, "
            f"acc_norm {100 * norm[None].teacher_text:.1f}%  [{len(items)} items, {time.perf_counter() - started:.0f} s]"
        )
        if name == "trained":
            per_topic = ", ".join(f"{t} {100 * r.teacher_text:.0f}" for t, r in sorted(norm.items(), key=lambda kv: kv[0] or "") if t)
            print(f"  per topic acc_norm: {per_topic}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--items", type=int, default=280, help="bundled_mc items for the accuracy figures")
    parser.add_argument("--speed-items", type=int, default=56, help="items for the speed comparison")
    parser.add_argument("--shots", type=int, nargs="+", default=[0, 5])
    parser.add_argument("--max-positions", type=int, default=2048)
    parser.add_argument("--speed-shots", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--cache", default=None, help="folder to save the trained teacher in / load it from")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    tok, model, untrained = cached_teacher(TeacherConfig(), args.cache)
    items = bundled_items(args.items, 4, seed=0)
    print(f"bundled_mc: {len(items)} items, 4 options (chance 25.0%), 14 topics")
    accuracy_report("trained", model, tok, items, args.shots, args.max_positions)
    accuracy_report("untrained", untrained, tok, items, [0], args.max_positions)

    speed = items[: args.speed_items]
    config = EvalConfig(n_shots=args.speed_shots, max_positions=args.max_positions, batch_size=args.batch_size)
    n_options = sum(len(i.options) for i in speed)
    timings = {}
    for name, run in (
        ("batched", lambda: [list(s.logprobs) for s in score_items(TextLM(model), tok, speed, config)]),
        ("loop", lambda: plain_loop(model, tok, speed, config)),
    ):
        run()  # warm-up (allocations, tokenizer caches)
        started = time.perf_counter()
        result = run()
        timings[name] = (time.perf_counter() - started, result)
    diff = max(abs(a - b) for x, y in zip(timings["batched"][1], timings["loop"][1]) for a, b in zip(x, y))
    for name, (seconds, _) in timings.items():
        print(
            f"{name:8s}: {len(speed) / seconds:7.1f} items/s ({n_options / seconds:7.1f} options/s, {seconds:.2f} s, "
            f"{args.speed_shots}-shot, {args.threads} threads)"
        )
    print(f"batched / loop: {timings['loop'][0] / timings['batched'][0]:.2f}x; largest log-prob difference {diff:.2e}")
    assert diff < 1e-3, "batched and plain-loop log-probabilities disagree"


if __name__ == "__main__":
    main()
