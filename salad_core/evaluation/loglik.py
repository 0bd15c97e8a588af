"""Batched log-likelihood of continuations, on text or with a speech span in the context.

Usage:
    from salad_core.evaluation.loglik import Request, TextLM, loglikelihoods
    reqs = [Request(prefix=ctx_ids, continuation=cont_ids)]                      # text
    reqs = [Request(prefix=ids, frames=codes, suffix=ids2, continuation=cont)]   # speech in the middle
    scores = loglikelihoods(TextLM(hf_model), reqs, batch_size=16, max_positions=2048)
    scores = loglikelihoods(speech_lm, reqs, batch_size=16, max_positions=2048)   # SpeechLM as is
    scores[i].logprob, scores[i].greedy

What is computed is lm-evaluation-harness's `loglikelihood`: the model reads
(prefix + speech + suffix + continuation) minus its last token, left-truncated to `max_positions`
(text only: speech is never cut), and the continuation's log-probabilities are summed; `greedy`
says whether every continuation token is the argmax. Batching: requests sorted longest first (less
padding, the harness's order too), right-padded, one forward per batch; the LM head runs only at
the continuation positions, so a 152k vocabulary costs (continuation tokens x vocab), not
(sequence x vocab). Results come back in request order.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class Request:
    prefix: list[int]
    continuation: list[int]
    frames: torch.Tensor | None = None  # (F, n_q) integer codes or (F, D) latents
    suffix: tuple[int, ...] | list[int] = ()

    @property
    def n_frames(self) -> int:
        """Speech frames in the context; 0 for a text-only request."""
        return 0 if self.frames is None else int(self.frames.shape[0])

    def __len__(self) -> int:
        return len(self.prefix) + self.n_frames + len(self.suffix) + len(self.continuation)


@dataclass(frozen=True)
class OptionScore:
    logprob: float
    greedy: bool


class TextLM(nn.Module):
    """Any Hugging Face causal LM (or a FrozenTeacher's `.llm`) behind the SpeechLM scoring interface."""

    def __init__(self, llm: nn.Module):
        super().__init__()
        self.llm = getattr(llm, "llm", llm)  # a FrozenTeacher or SpeechLM: its LLM; a HF model: itself

    @property
    def head(self) -> nn.Module:
        """The HF model's output embedding (LM head), so the scorer can apply it only at continuation positions."""
        return self.llm.get_output_embeddings()

    def hidden_states(self, input_ids, attention_mask=None, speech_mask=None, span_frames=None, span_lengths=None):
        """Last-layer hidden states (batch, seq, hidden) of the text LLM, no KV cache; ValueError if `speech_mask` marks any
        speech, since a text model cannot read frames."""
        if speech_mask is not None and bool(speech_mask.any()):
            raise ValueError("a text-only model was given speech frames; score speech with the SpeechLM")
        return self.llm.base_model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).last_hidden_state


def _device_of(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def _truncated(request: Request, max_positions: int) -> Request:
    """Drop prefix tokens from the left so the model reads at most `max_positions` positions."""
    excess = len(request) - 1 - max_positions
    if excess <= 0:
        return request
    keep = max(0, len(request.prefix) - excess)
    return Request(request.prefix[len(request.prefix) - keep :], request.continuation, request.frames, request.suffix)


@torch.no_grad()
def _score_batch(model: nn.Module, batch: list[Request], pad_id: int) -> list[OptionScore]:
    device = _device_of(model)
    inputs = [list(r.prefix) + [pad_id] * r.n_frames + list(r.suffix) + list(r.continuation[:-1]) for r in batch]
    width = max(len(row) for row in inputs)
    input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(batch), width), dtype=torch.long)
    speech_mask = torch.zeros((len(batch), width), dtype=torch.bool)
    spans = []
    for b, (row, r) in enumerate(zip(inputs, batch)):
        input_ids[b, : len(row)] = torch.as_tensor(row)
        attention[b, : len(row)] = 1
        if r.n_frames:
            speech_mask[b, len(r.prefix) : len(r.prefix) + r.n_frames] = True
            spans.append(r.frames)
    kwargs = {"input_ids": input_ids.to(device), "attention_mask": attention.to(device)}
    if spans:
        lengths = torch.tensor([s.shape[0] for s in spans])
        frames = spans[0].new_zeros((len(spans), int(lengths.max()), *spans[0].shape[1:]))
        for i, s in enumerate(spans):
            frames[i, : s.shape[0]] = s
        kwargs.update(speech_mask=speech_mask.to(device), span_frames=frames.to(device), span_lengths=lengths.to(device))
    hidden = model.hidden_states(**kwargs)
    rows, cols, targets, owner = [], [], [], []
    for b, r in enumerate(batch):
        n = len(r.continuation)
        start = len(inputs[b]) - n  # position predicting the first continuation token
        rows += [b] * n
        cols += range(start, start + n)
        targets += r.continuation
        owner += [b] * n
    picked = hidden[torch.tensor(rows, device=device), torch.tensor(cols, device=device)]
    logprobs = F.log_softmax(model.head(picked).float(), dim=-1)
    target = torch.tensor(targets, device=device)
    token_lp = logprobs.gather(1, target[:, None])[:, 0]
    token_greedy = logprobs.argmax(dim=-1) == target
    owner_t = torch.tensor(owner, device=device)
    sums = torch.zeros(len(batch), dtype=torch.float64, device=device).index_add_(0, owner_t, token_lp.double())
    misses = torch.zeros(len(batch), dtype=torch.long, device=device).index_add_(0, owner_t, (~token_greedy).long())
    return [OptionScore(float(s), int(m) == 0) for s, m in zip(sums.cpu(), misses.cpu())]


def loglikelihoods(model: nn.Module, requests: list[Request], batch_size: int = 16, max_positions: int = 2048, pad_id: int = 0) -> list[OptionScore]:
    """One score per request, in request order: summed continuation log-probability and whether it is greedy; ValueError for an empty continuation."""
    for i, r in enumerate(requests):
        if not r.continuation:
            raise ValueError(f"request {i}: empty continuation (an option that tokenises to nothing)")
    trimmed = [_truncated(r, max_positions) for r in requests]
    order = sorted(range(len(trimmed)), key=lambda i: -len(trimmed[i]))
    out: list[OptionScore | None] = [None] * len(trimmed)
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        for i, score in zip(chunk, _score_batch(model, [trimmed[i] for i in chunk], pad_id)):
            out[i] = score
    return out  # type: ignore[return-value]
