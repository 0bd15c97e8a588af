"""Turning any decoded signal into what Mimi wants: mono float32 at one sample rate.

Usage:
    mono = downmix(frames_by_channels)                 # (n,) or (n, channels) -> (n,)
    audio_24k = resample(mono, from_sr=16000, to_sr=24000)

soxr's "VHQ" preset is used because the codec sees every sample: a cheap resampler's aliasing
would become part of the speech tokens. It is still far faster than the Mimi encoder.
"""

from __future__ import annotations

import numpy as np
import soxr

RESAMPLE_QUALITY = "VHQ"


def downmix(audio: np.ndarray) -> np.ndarray:
    """Average the channels: speech corpora record one voice, so no channel is preferred."""
    if audio.ndim == 1:
        return audio.astype(np.float32, copy=False)
    if audio.ndim != 2:
        raise ValueError(f"audio must be (n,) or (n, channels), got shape {audio.shape}")
    return audio.mean(axis=1, dtype=np.float64).astype(np.float32)


def resample(audio: np.ndarray, from_sr: int, to_sr: int) -> np.ndarray:
    """Band-limited resampling of a mono float32 signal; a no-op when the rates already match."""
    audio = np.ascontiguousarray(audio, dtype=np.float32)
    if from_sr == to_sr:
        return audio
    return soxr.resample(audio, from_sr, to_sr, quality=RESAMPLE_QUALITY).astype(np.float32, copy=False)
