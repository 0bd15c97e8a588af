"""Grouping clips of unequal length into padded batches for one forward pass each.

Usage:
    for indices in plan_batches([len(a) for a in audios], max_items=16, max_padded_samples=24000 * 240):
        batch = pad_batch([audios[i] for i in indices])        # (B, L), L a multiple of 1,920

Clips are sorted by length (longest first) before grouping, so each batch holds clips of similar
length and little compute is spent on padding. Padding goes at the end: Mimi's encoder is causal,
so trailing zeros cannot change the frames before them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from salad_core.mimi.config import SAMPLES_PER_FRAME, frames_for_samples


def padded_length(n_samples: int) -> int:
    """Length Mimi actually encodes: whole frames, and at least one."""
    return max(1, frames_for_samples(n_samples)) * SAMPLES_PER_FRAME


def plan_batches(lengths: Sequence[int], max_items: int, max_padded_samples: int) -> list[list[int]]:
    """Indices grouped into batches of at most ``max_items`` and ``max_padded_samples`` padded samples.

    A clip longer than ``max_padded_samples`` gets a batch of its own rather than an error.
    """
    longest_first = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    batches: list[list[int]] = []
    current: list[int] = []
    for i in longest_first:
        if current:
            batch_length = padded_length(lengths[current[0]])
            if len(current) == max_items or (len(current) + 1) * batch_length > max_padded_samples:
                batches.append(current)
                current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def pad_batch(audios: Sequence[np.ndarray]) -> np.ndarray:
    """Stack 1-D clips into (B, L) float32 with zeros after each clip, L in whole frames."""
    length = padded_length(max(len(a) for a in audios))
    batch = np.zeros((len(audios), length), dtype=np.float32)
    for row, audio in zip(batch, audios):
        row[: len(audio)] = audio
    return batch
