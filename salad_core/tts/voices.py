"""Which voice speaks which row: a pure function of (row id, seed, voice list).

Usage:
    voice = pick_voice(row["id"], seed=config.seed, voices=backend.voices())

The paper uses one Kokoro voice (`af_heart`) for everything; that is `PAPER_VOICES`, a list of
one. With several voices the choice must survive re-runs, resumed shards and other processes,
so it uses the project's seeded hash (salad_core.seeded_hash) rather than Python's per-process
salted `hash()`.
"""

from __future__ import annotations

from salad_core.seeded_hash import seeded_hash

PAPER_VOICES = ["af_heart"]
"""The single Kokoro voice used for the paper's selected texts and spoken benchmarks."""

DEFAULT_ESPEAK_VOICES = ["en-us", "en-us+f3", "en-us+m3", "en+f2", "en+m1", "en-us+f4"]
"""A few distinct English espeak-ng voices (accent + variant) for the offline default."""


def pick_voice(row_id: str, seed: int, voices: list[str]) -> str:
    """Deterministically assign one of `voices` to a row; uniform over the list."""
    if not voices:
        raise ValueError("pick_voice needs at least one voice")
    return voices[seeded_hash(row_id, seed, "voice") % len(voices)]
