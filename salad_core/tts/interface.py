"""What every speech synthesiser in the pipeline promises.

Usage:
    backend = make_backend(TTSConfig(backend="espeak"))   # see salad_core.tts.factory
    result = backend.synthesize("The cat sat on the mat.", voice=backend.voices()[0])
    result.audio            # float32 mono at 24 kHz (Mimi's input rate)
    result.word_timings     # [(word, start_s, end_s), ...] or None
    backend.model_info()    # goes into the artifact manifest (lineage)

Stages only ever see this interface, so swapping espeak-ng (offline default) for Kokoro (the
paper's TTS) changes no caller. Every backend emits 24 kHz so downstream code never resamples.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

SAMPLE_RATE = 24_000
"""Every backend delivers audio at Mimi's rate, so the codec stage can take it as is."""

WordTiming = tuple[str, float, float]
"""(word as written in the input text, start in seconds, end in seconds)."""


@dataclass(frozen=True, eq=False)  # eq would compare arrays elementwise
class Synthesis:
    """One synthesised utterance plus what is needed to trust and reproduce it.

    `word_timings` has one entry per whitespace-separated token of the input text, in order, when
    the backend can time words; the interleaving stage cuts speech at these boundaries.
    `random_weights` is carried on every result so noise from a test-mode model can never pass
    for speech unnoticed.
    """

    audio: np.ndarray
    backend: str
    model_id: str
    random_weights: bool
    voice: str
    sample_rate: int = SAMPLE_RATE
    word_timings: list[WordTiming] | None = None

    @property
    def duration_s(self) -> float:
        """Length of the audio in seconds."""
        return len(self.audio) / self.sample_rate


class TTSBackend(ABC):
    """A text-to-speech engine: text and a voice name in, 24 kHz mono float32 out."""

    name: str
    """Short backend name recorded in manifests ("espeak", "kokoro")."""

    @abstractmethod
    def synthesize(self, text: str, voice: str) -> Synthesis:
        """Speak `text` with `voice`. Callers should run `check_text` first and quarantine rows
        it rejects; a backend may still raise ValueError for text it cannot speak."""

    @abstractmethod
    def voices(self) -> list[str]:
        """The voices this backend instance was configured to use (input for `pick_voice`)."""

    @abstractmethod
    def model_info(self) -> dict:
        """JSON-serialisable identity of the model for the artifact manifest: at least
        `backend`, `model_id`, `revision` (or weights hash) and `random_weights`.

        Machine-specific paths live under `local_paths` only, so a fingerprint can hash
        everything else and stay equal across machines with the same model."""


def as_mono_float32(audio: np.ndarray) -> np.ndarray:
    """Normalise a backend's raw output to the contract (1-D, float32, contiguous)."""
    out = np.ascontiguousarray(np.asarray(audio, dtype=np.float32).reshape(-1))
    if not np.all(np.isfinite(out)):
        raise RuntimeError("synthesised audio contains NaN or infinite samples")
    return out
