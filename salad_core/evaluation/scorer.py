"""Score multiple-choice items in one of the three views: teacher on text, student on text, student on speech.

Usage:
    from salad_core.evaluation.scorer import score_items
    scores = score_items(TextLM(teacher), tokenizer, items, EvalConfig())                   # teacher-text
    scores = score_items(student, tokenizer, items, EvalConfig())                           # student-text
    scores = score_items(student, tokenizer, items, EvalConfig(), frames={id: codes})       # student-speech
    scores[0].pred_norm, scores[0].correct_norm, scores[0].logprobs

Each option is a continuation (" " + option) of the few-shot prompt and the item's query; `acc`
takes the highest summed log-probability, `acc_norm` the highest sum divided by the option's
length in characters (lm-evaluation-harness's definitions, ties to the first option). The report
uses acc_norm, as the paper does. Text tokens follow the harness's `_encode_pair`: trailing spaces
of the context move to the continuation, and the continuation's tokens are those of
context + continuation after the context's tokens (never the option tokenised alone).

Speech view: the shots stay text, the item's spoken part (context + question) is its Mimi frames
through the adapter, the template's text around it (e.g. "\\nAnswer:") stays text, the options stay
text. `frames` maps item id -> (F, n_q) codes (or (F, 512) latents); an item without frames is not
scored in that view and is listed in `missing` by the caller.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from salad_core.evaluation.config import EvalConfig
from salad_core.evaluation.fewshot import choose_shots, fewshot_prefix, pack_shots
from salad_core.evaluation.items import McItem
from salad_core.evaluation.loglik import Request, loglikelihoods
from salad_core.evaluation.prompts import continuation, prompt_parts, query_text
from salad_core.teacher.tokenizer import speech_marker_ids


@dataclass(frozen=True)
class ItemScore:
    id: str
    benchmark: str
    topic: str | None
    answer: int
    logprobs: tuple[float, ...]
    n_chars: tuple[int, ...]
    n_shots: int
    n_positions: int  # the longest option's sequence, what the context budget bounds

    @property
    def pred_raw(self) -> int:
        """Index of the option with the highest summed log-probability (ties: the first)."""
        return int(np.argmax(self.logprobs))

    @property
    def pred_norm(self) -> int:
        """Index of the option with the highest log-probability per character, the harness's acc_norm that removes the bias toward short options."""
        return int(np.argmax(np.asarray(self.logprobs) / np.asarray(self.n_chars, dtype=np.float64)))

    @property
    def correct_raw(self) -> bool:
        """Whether the acc prediction (highest summed log-probability) is the answer."""
        return self.pred_raw == self.answer

    @property
    def correct_norm(self) -> bool:
        """Whether the acc_norm prediction (highest log-probability per character) is the answer."""
        return self.pred_norm == self.answer


def _encode(tokenizer, text: str) -> list[int]:
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def encode_pair(tokenizer, context: str, cont: str) -> tuple[list[int], list[int]]:
    """lm-evaluation-harness's `_encode_pair`."""
    n_spaces = len(context) - len(context.rstrip())
    if n_spaces:
        cont, context = context[-n_spaces:] + cont, context[:-n_spaces]
    whole, ctx = _encode(tokenizer, context + cont), _encode(tokenizer, context)
    return ctx, whole[len(ctx) :]


class _TextPrompts:
    def __init__(self, tokenizer, item: McItem):
        self.tokenizer, self.item = tokenizer, item

    def requests(self, shots: list[McItem]) -> list[Request]:
        context = fewshot_prefix(shots) + query_text(self.item)
        return [Request(*encode_pair(self.tokenizer, context, continuation(self.item, k))) for k in range(len(self.item.options))]


class _SpeechPrompts:
    def __init__(self, tokenizer, item: McItem, frames: torch.Tensor, markers: tuple[int, int] | None):
        self.tokenizer, self.item, self.frames = tokenizer, item, frames
        before, _, after = prompt_parts(item)
        self.before, self.after = before, after
        start, end = markers if markers else (None, None)
        self.open = [start] if markers else []
        after_ids = _encode(tokenizer, after)
        self.suffix = ([end] if markers else []) + after_ids
        self.conts = [_encode(tokenizer, after + continuation(item, k))[len(after_ids) :] for k in range(len(item.options))]

    def requests(self, shots: list[McItem]) -> list[Request]:
        prefix = _encode(self.tokenizer, fewshot_prefix(shots) + self.before) + self.open
        return [Request(prefix, cont, self.frames, self.suffix) for cont in self.conts]


def build_requests(tokenizer, item: McItem, pool: Sequence[McItem], config: EvalConfig, frames: torch.Tensor | None = None) -> tuple[list[Request], int]:
    """(one request per option, number of shots used): shots packed so the longest option fits."""
    if frames is None:
        prompts = _TextPrompts(tokenizer, item)
    else:
        markers = speech_marker_ids(tokenizer) if config.speech_markers else None
        prompts = _SpeechPrompts(tokenizer, item, frames, markers)
    shots = choose_shots(item, pool, config.n_shots, config.seed)
    shots = pack_shots(shots, lambda s: max(len(r) for r in prompts.requests(s)) <= config.max_positions)
    return prompts.requests(shots), len(shots)


def score_items(
    model: nn.Module,
    tokenizer,
    items: Sequence[McItem],
    config: EvalConfig,
    pool: Sequence[McItem] | None = None,
    frames: Mapping[str, torch.Tensor] | None = None,
) -> list[ItemScore]:
    """Scores of `items` (with speech: of those that have frames), in order. `pool`: shot sources (default `items`)."""
    pool = list(items if pool is None else pool)
    by_benchmark: dict[str, list[McItem]] = {}
    for p in pool:
        by_benchmark.setdefault(p.benchmark, []).append(p)
    scored, requests, spans = [], [], []
    for item in items:
        item_frames = None
        if frames is not None:
            if item.id not in frames:
                continue
            item_frames = frames[item.id]
        reqs, n_shots = build_requests(tokenizer, item, by_benchmark.get(item.benchmark, []), config, item_frames)
        spans.append((item, n_shots, len(requests), len(reqs), max(len(r) for r in reqs)))
        requests += reqs
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    option_scores = loglikelihoods(model, requests, config.batch_size, config.max_positions, pad_id)
    for item, n_shots, start, n, positions in spans:
        scored.append(
            ItemScore(
                id=item.id,
                benchmark=item.benchmark,
                topic=item.topic,
                answer=item.answer,
                logprobs=tuple(s.logprob for s in option_scores[start : start + n]),
                n_chars=tuple(max(1, len(o)) for o in item.options),
                n_shots=n_shots,
                n_positions=positions,
            )
        )
    return scored
