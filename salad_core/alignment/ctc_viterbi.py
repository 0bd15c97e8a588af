"""CTC forced alignment: the best monotonic path of a known token sequence through CTC log-probs.

Usage:
    spans = forced_align(log_probs, tokens=[7, 4, 11, 11, 14], blank=0)   # log_probs: frames x vocab
    spans[2]      # TokenSpan(token=11, start=5, end=7): token 2 is emitted on frames [5, 7)

The standard CTC trellis: the target is extended to ``blank t1 blank t2 ... tN blank``; at each
frame a path stays in its state, moves to the next one, or skips a blank between two *different*
tokens (two equal neighbours, as in "ll", need a blank frame between them). Viterbi keeps, per
frame and state, the best-scoring predecessor; the path ends in the last token or the final blank.
A target needs ``len(tokens) + adjacent repeats`` frames; fewer raises :class:`AlignmentError`
naming both numbers. Pure numpy (no torchaudio, whose ``forced_align`` is being deprecated and is
not installed here): a loop over frames, vectorised over states, O(frames x tokens).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


class AlignmentError(ValueError):
    """The transcript cannot be aligned to the audio (e.g. more tokens than frames)."""


@dataclass(frozen=True)
class TokenSpan:
    token: int
    start: int  # first frame emitting the token
    end: int  # one past the last frame emitting it


def frames_needed(tokens: Sequence[int]) -> int:
    """The fewest frames any CTC path for ``tokens`` takes: one per token, one blank per repeat."""
    repeats = sum(a == b for a, b in zip(tokens, tokens[1:]))
    return len(tokens) + repeats


def check_fits(tokens: Sequence[int], frames: int) -> None:
    """AlignmentError, naming both counts, when `frames` CTC frames are too few for any path through `tokens`; returns None when they fit."""
    needed = frames_needed(tokens)
    if needed > frames:
        repeats = needed - len(tokens)
        raise AlignmentError(
            f"transcript needs at least {needed} frames ({len(tokens)} tokens + {repeats} blanks between repeated tokens) but the audio has {frames}"
        )


def forced_align(log_probs: np.ndarray, tokens: Sequence[int], blank: int) -> list[TokenSpan]:
    """Per-token frame spans of the highest-scoring CTC path that emits exactly ``tokens``."""
    log_probs = np.asarray(log_probs, dtype=np.float64)
    frames = log_probs.shape[0]
    if blank in tokens:
        raise ValueError(f"the target contains the blank id {blank}")
    check_fits(tokens, frames)
    if not tokens:
        return []
    ext = np.full(2 * len(tokens) + 1, blank, dtype=np.int64)
    ext[1::2] = tokens
    states = len(ext)
    # a state may skip the blank before it when it is a token differing from the token two back
    skip = np.zeros(states, dtype=bool)
    skip[3::2] = ext[3::2] != ext[1:-2:2]

    score = np.full(states, -np.inf)
    score[:2] = log_probs[0, ext[:2]]
    back = np.zeros((frames, states), dtype=np.int8)  # 0: stayed, 1: from s-1, 2: from s-2
    for t in range(1, frames):
        stay = score
        step = np.concatenate(([-np.inf], score[:-1]))
        jump = np.where(skip, np.concatenate(([-np.inf, -np.inf], score[:-2])), -np.inf)
        choice = np.argmax(np.stack([stay, step, jump]), axis=0)  # ties prefer staying, then one step
        score = np.choose(choice, [stay, step, jump]) + log_probs[t, ext]
        back[t] = choice

    state = states - 1 if score[-1] >= score[-2] else states - 2
    if not np.isfinite(score[state]):
        raise AlignmentError("every path emitting the transcript has probability zero under the model")
    path = np.empty(frames, dtype=np.int64)
    for t in range(frames - 1, -1, -1):
        path[t] = state
        state -= int(back[t, state])
    return _token_spans(path, tokens)


def _token_spans(path: np.ndarray, tokens: Sequence[int]) -> list[TokenSpan]:
    """Frames per token from the state path (odd states are tokens: state 2k+1 is token k)."""
    spans: list[TokenSpan] = []
    for k, token in enumerate(tokens):
        frames = np.flatnonzero(path == 2 * k + 1)
        spans.append(TokenSpan(token=int(token), start=int(frames[0]), end=int(frames[-1]) + 1))
    return spans
