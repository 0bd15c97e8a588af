"""The baseline a teacher must beat: a unigram model of the training split, add-one smoothed.

Usage:
    from salad_core.teacher.unigram import unigram_perplexity
    ppl = unigram_perplexity(train_tokens, held_out_targets, vocab_size=len(tokenizer))

A model that learned nothing about context scores about this; one far below it has learned
the corpus's structure. Add-one smoothing gives every token of the vocabulary some mass, so a
held-out token unseen in training does not make the perplexity infinite.
"""

import math

import torch


def unigram_log_probs(train_tokens: torch.Tensor, vocab_size: int) -> torch.Tensor:
    """log p(token) = log((count + 1) / (N + V)) over the whole vocabulary, float64."""
    counts = torch.bincount(train_tokens.reshape(-1), minlength=vocab_size).to(torch.float64)
    if counts.numel() > vocab_size:
        raise ValueError(f"training tokens reach id {counts.numel() - 1}, beyond vocab_size {vocab_size}")
    return torch.log((counts + 1.0) / (counts.sum() + vocab_size))


def unigram_perplexity(train_tokens: torch.Tensor, eval_targets: torch.Tensor, vocab_size: int) -> float:
    """Perplexity of an add-one-smoothed unigram model fitted on `train_tokens`, scored on `eval_targets`: the baseline a real teacher must beat."""
    log_probs = unigram_log_probs(train_tokens, vocab_size)
    return math.exp(-log_probs[eval_targets.reshape(-1)].mean().item())
