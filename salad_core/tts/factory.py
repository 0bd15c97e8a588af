"""Build the configured TTS backend.

Usage:
    backend = make_backend(TTSConfig(backend="kokoro", random_weights=True))

Backends are imported lazily: the espeak default must not pay for importing torch, kokoro,
misaki and spaCy (several seconds), and a machine without them can still speak.
"""

from __future__ import annotations

from salad_core.tts.config import TTSConfig
from salad_core.tts.interface import TTSBackend


def make_backend(config: TTSConfig) -> TTSBackend:
    """The backend named by `config.backend`, imported lazily so espeak runs need no torch; ValueError for an unknown backend
    or random_weights with espeak."""
    if config.backend == "espeak":
        if config.random_weights:
            raise ValueError("random_weights is a Kokoro test mode; espeak-ng has no weights")
        from salad_core.tts.espeak import EspeakBackend

        return EspeakBackend(voices=config.voices, rate=config.espeak_rate, pitch=config.espeak_pitch)
    if config.backend == "kokoro":
        from salad_core.tts.kokoro_backend import KokoroBackend

        return KokoroBackend(
            voices=config.voices,
            weights_dir=config.kokoro_weights_dir,
            repo_id=config.kokoro_repo_id,
            revision=config.kokoro_revision,
            hf_cache_dir=config.hf_cache_dir,
            random_weights=config.random_weights,
            seed=config.seed,
            device=config.device,
            dtype=config.dtype,
            speed=config.speed,
        )
    raise ValueError(f"unknown TTS backend {config.backend!r}")
