"""Rows of the data artifacts -> typed training inputs, with clear errors for unusable rows.

Usage:
    from salad_core.training.rows import SpeechRow, aligned_utterance
    utt, codes = aligned_utterance(row, source="codes@ab12 + utterances@cd34", num_codebooks=8)

A speech row is a codes row (`id, codes, n_frames, n_codebooks`, see tasks/tokenize.py) joined by
id with its audio artifact's `text` and `word_timings` (list of {word, start, end}). The words the
model sees are the timed words: they are the transcript's whitespace tokens, in order.
"""

from __future__ import annotations

import numpy as np

from salad_core.interleave.records import AlignedUtterance
from salad_core.mimi.codes import CodesMismatch, codes_array


class TrainingDataError(ValueError):
    """A data artifact (or one of its rows) cannot be trained on; the message names it."""


def codes_matrix(row: dict, source: str, num_codebooks: int) -> np.ndarray:
    """(n_frames, n_codebooks) int16 codes of a row, checked against the model's codebook count."""
    try:
        return codes_array(row, num_codebooks, source)
    except CodesMismatch as err:
        raise TrainingDataError(str(err)) from err


def aligned_utterance(row: dict, source: str, num_codebooks: int) -> tuple[AlignedUtterance, np.ndarray]:
    """(AlignedUtterance, codes) of one joined speech row."""
    timings = row.get("word_timings")
    if not timings:
        raise TrainingDataError(
            f"{source}: row {row['id']!r} has no word timings; interleaving needs them "
            "(align the speech first: speech.align, or a TTS backend that times words)"
        )
    codes = codes_matrix(row, source, num_codebooks)
    try:
        utt = AlignedUtterance(
            utterance_id=str(row["id"]),
            words=[str(t["word"]) for t in timings],
            word_starts=[float(t["start"]) for t in timings],
            word_ends=[float(t["end"]) for t in timings],
            n_frames=codes.shape[0],
        )
    except ValueError as err:
        raise TrainingDataError(f"{source}: row {row['id']!r} has invalid word timings: {err}") from err
    return utt, codes
