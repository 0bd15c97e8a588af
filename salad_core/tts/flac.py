"""FLAC bytes for the `audio` column of speech artifacts, and back.

Usage:
    blob = encode_flac(synthesis.audio, 24000)      # bytes for a Parquet binary column
    audio, sr = decode_flac(blob)                   # float32 mono, native rate

Lossless and about half the size of 16-bit WAV. The shared helpers in `salad_core.audio` are
used when that package is installed (one encoder for every stage that stores audio); soundfile
directly otherwise, with the same 16-bit clip-then-encode behaviour.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import soundfile as sf

try:  # the pipeline's shared audio I/O (decode of corpus files, encode for storage)
    from salad_core.audio import decode_audio as _shared_decode
    from salad_core.audio import encode_flac as _shared_encode
except ImportError:  # pragma: no cover - only when salad_core.audio is absent
    _shared_decode = _shared_encode = None


def encoder_source_files() -> list[Path]:
    """Source files that decide the stored bytes, for a stage's code version."""
    files = [Path(__file__)]
    if _shared_encode is not None:
        files.append(Path(_shared_encode.__code__.co_filename))
    return files


def encode_flac(audio: np.ndarray, sample_rate: int) -> bytes:
    """16-bit FLAC; refuses NaN/inf (they cannot be stored and mean the synthesis is broken)."""
    if _shared_encode is not None:
        return _shared_encode(audio, sample_rate)
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 1:
        raise ValueError(f"expected mono audio of shape (n,), got {audio.shape}")
    if not np.isfinite(audio).all():
        raise ValueError("audio contains NaN or inf; refusing to store it")
    buffer = io.BytesIO()
    # clip first: libsndfile wraps values past full scale around to the opposite sign
    sf.write(buffer, np.clip(audio, -1.0, 1.0), sample_rate, format="FLAC", subtype="PCM_16")
    return buffer.getvalue()


def decode_flac(blob: bytes, source: str = "<bytes>") -> tuple[np.ndarray, int]:
    """(float32 mono samples, sample rate) at the stored rate; raises ValueError on broken bytes."""
    if _shared_decode is not None:
        return _shared_decode(blob, target_sr=None, source=source)
    if not blob:
        raise ValueError(f"{source}: empty bytes")
    try:
        audio, sample_rate = sf.read(io.BytesIO(blob), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as err:
        raise ValueError(f"{source}: libsndfile could not read it: {err}") from err
    return audio.mean(axis=1).astype(np.float32), sample_rate
