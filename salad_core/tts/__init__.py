"""Text-to-speech backends: espeak-ng (offline default) and Kokoro-82M (the paper's TTS).

Usage:
    from salad_core.tts import TTSConfig, make_backend, check_text, pick_voice

    backend = make_backend(TTSConfig(backend="espeak"))
    for row in rows:
        reason = check_text(row["text"], max_chars=config.max_chars)
        if reason:
            ...  # quarantine the row with `reason`
        voice = pick_voice(row["id"], seed=config.seed, voices=backend.voices())
        result = backend.synthesize(row["text"], voice)   # 24 kHz float32 + word timings
    backend.model_info()                                   # into the artifact manifest

Importing this package is cheap; torch/kokoro/misaki load only when a Kokoro backend is built.
"""

from salad_core.tts.config import TTSConfig
from salad_core.tts.factory import make_backend
from salad_core.tts.interface import SAMPLE_RATE, Synthesis, TTSBackend, WordTiming
from salad_core.tts.text_checks import check_text
from salad_core.tts.voices import DEFAULT_ESPEAK_VOICES, PAPER_VOICES, pick_voice

__all__ = [
    "DEFAULT_ESPEAK_VOICES",
    "PAPER_VOICES",
    "SAMPLE_RATE",
    "Synthesis",
    "TTSBackend",
    "TTSConfig",
    "WordTiming",
    "check_text",
    "make_backend",
    "pick_voice",
]
