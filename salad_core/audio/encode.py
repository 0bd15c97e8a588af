"""Audio -> file bytes, for storing waveforms inside Parquet rows (e.g. synthesised speech).

Usage:
    blob = encode_flac(audio, 24000)          # lossless, ~half the size of 16-bit WAV
    blob = encode_wav(audio, 24000)
    audio_back, sr = decode_audio(blob, target_sr=None)

Samples are clipped to [-1, 1] before integer encoding: libsndfile would otherwise wrap values
past full scale around to the opposite sign, a loud click instead of a slight clip.
16-bit is the default because speech corpora and Mimi's training data are 16-bit; pass
``subtype="PCM_24"`` to keep more precision.
"""

from __future__ import annotations

import io

import numpy as np
import soundfile as sf


def encode_flac(audio: np.ndarray, sr: int, subtype: str = "PCM_16") -> bytes:
    """Mono (n,) audio in [-1, 1] as FLAC bytes at `sr` Hz (clipped for PCM subtypes); ValueError for non-1-D or non-finite audio."""
    return _encode(audio, sr, format="FLAC", subtype=subtype)


def encode_wav(audio: np.ndarray, sr: int, subtype: str = "PCM_16") -> bytes:
    """Mono (n,) audio in [-1, 1] as WAV bytes at `sr` Hz (clipped for PCM subtypes); ValueError for non-1-D or non-finite audio."""
    return _encode(audio, sr, format="WAV", subtype=subtype)


def _encode(audio: np.ndarray, sr: int, format: str, subtype: str) -> bytes:
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 1:
        raise ValueError(f"expected mono audio of shape (n,), got {audio.shape}")
    if not np.isfinite(audio).all():
        raise ValueError("audio contains NaN or inf; refusing to store it")
    if subtype.startswith("PCM"):
        audio = np.clip(audio, -1.0, 1.0)
    buffer = io.BytesIO()
    sf.write(buffer, audio, sr, format=format, subtype=subtype)
    return buffer.getvalue()
