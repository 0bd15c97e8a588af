"""Which voice speaks which row: a pure function of (row id, seed, voice list).

Usage:
    voice = pick_voice(row["id"], seed=config.seed, voices=backend.voices())

The paper uses one Kokoro voice (`af_heart`) for everything; that is `PAPER_VOICES`, a list of
one. With several voices the choice must survive re-runs, resumed shards and other processes,
so it hashes with sha256 rather than Python's per-process salted `hash()`.
"""

from __future__ import annotations

import hashlib

PAPER_VOICES = ["af_heart"]
"""The single Kokoro voice used for the paper's selected texts and spoken benchmarks."""

DEFAULT_ESPEAK_VOICES = ["en-us", "en-us+f3", "en-us+m3", "en+f2", "en+m1", "en-us+f4"]
"""A few distinct English espeak-ng voices (accent + variant) for the offline default."""


def pick_voice(row_id: str, seed: int, voices: list[str]) -> str:
    """Deterministically assign one of `voices` to a row; uniform over the list."""
    if not voices:
        raise ValueError("pick_voice needs at least one voice")
    digest = hashlib.sha256(f"{seed}\x1f{row_id}".encode("utf-8")).digest()
    return voices[int.from_bytes(digest[:8], "big") % len(voices)]
