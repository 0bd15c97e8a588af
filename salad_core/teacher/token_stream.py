"""Corpus documents -> one token stream per split -> fixed-length windows for the LM.

Usage:
    from salad_core.teacher.token_stream import corpus_token_streams, token_windows
    streams = corpus_token_streams(batches, tokenizer, held_out_fraction=0.05, max_eval_tokens=65536)
    windows = token_windows(streams.train, seq_len=128)    # (n, 129): inputs [:, :-1], targets [:, 1:]

Documents are packed GPT-style: each document's tokens followed by eos, all concatenated in
corpus order, so no position is padding and the model learns where documents end. One pass over
the corpus fills both splits and stops early once both token caps are reached (web-scale corpora).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow as pa
import torch

from salad_core.teacher.corpus_text import partition_batch


@dataclass
class TokenStreams:
    train: torch.Tensor  # int64, 1-D
    held_out: torch.Tensor  # int64, 1-D
    train_docs: int
    held_out_docs: int


def corpus_token_streams(
    batches: Iterable[pa.RecordBatch | pa.Table],
    tokenizer,
    held_out_fraction: float,
    max_eval_tokens: int,
    max_train_tokens: int | None = None,
) -> TokenStreams:
    """Both splits' token streams from one pass over the corpus (eos after every document)."""
    eos = tokenizer.eos_token_id
    if eos is None:
        raise ValueError("the tokenizer has no eos token to separate documents")
    budgets = {False: max_train_tokens, True: max_eval_tokens}
    chunks: dict[bool, list[torch.Tensor]] = {False: [], True: []}  # one tensor per batch: no per-token objects
    counts = {False: 0, True: 0}
    docs = {False: 0, True: 0}

    def full(held_out: bool) -> bool:
        return budgets[held_out] is not None and counts[held_out] >= budgets[held_out]

    for batch in batches:
        for held_out, texts in zip((False, True), partition_batch(batch, held_out_fraction)):
            if full(held_out) or not texts:
                continue
            tokens: list[int] = []
            for encoded in tokenizer(texts, add_special_tokens=False)["input_ids"]:
                if budgets[held_out] is not None and counts[held_out] + len(tokens) >= budgets[held_out]:
                    break
                tokens.extend(encoded)
                tokens.append(eos)
                docs[held_out] += 1
            chunks[held_out].append(torch.tensor(tokens, dtype=torch.int64))
            counts[held_out] += len(tokens)
        if full(False) and full(True):
            break

    def stream(held_out: bool) -> torch.Tensor:
        tokens = torch.cat(chunks[held_out]) if chunks[held_out] else torch.empty(0, dtype=torch.int64)
        return tokens if budgets[held_out] is None else tokens[: budgets[held_out]]

    return TokenStreams(train=stream(False), held_out=stream(True), train_docs=docs[False], held_out_docs=docs[True])


def token_windows(tokens: torch.Tensor, seq_len: int) -> torch.Tensor:
    """Non-overlapping (seq_len + 1)-token windows: every token is a target exactly once (tail dropped)."""
    if tokens.numel() < seq_len + 1:
        raise ValueError(f"{tokens.numel()} tokens are fewer than one window of {seq_len + 1}")
    return tokens.unfold(0, seq_len + 1, seq_len)
