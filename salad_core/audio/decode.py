"""Bytes or files in any corpus format -> mono float32 at Mimi's 24 kHz, or AudioDecodeError.

Usage:
    from salad_core.audio import decode_audio, load_audio, AudioDecodeError
    audio, sr = decode_audio(blob, source="EN_B00001_S00002.mp3")      # sr == 24000
    audio, sr = load_audio("/data/librilight/100/sea_fairies_0812_librivox_64kb_mp3/01.flac")
    audio, sr = decode_audio(blob, target_sr=None, source="x.wav")      # keep the native rate

One decoder for every format: libsndfile (through ``soundfile``) reads WAV, FLAC, Ogg/Vorbis,
Opus and, since libsndfile 1.1, MP3; the ``soundfile`` wheels bundle libsndfile 1.2, so no ffmpeg
is needed for LibriHeavy (flac) or Emilia (mp3).

Everything that would give the codec garbage raises ``AudioDecodeError`` naming the source:
unreadable or empty bytes, zero-length audio, NaN/inf samples, and files the container says
are longer than the bytes present (a truncated download decodes "fine" in libsndfile, silently
shorter). A truncated MP3 cannot be told from a shorter one: MP3 has no length field; what
decodes is still correct audio.
"""

from __future__ import annotations

import io
import os
import re
from typing import BinaryIO

import numpy as np
import soundfile as sf

from salad_core.audio.errors import AudioDecodeError
from salad_core.audio.resample import downmix, resample

MIMI_SAMPLE_RATE = 24_000

# libsndfile's own log lines for containers whose header promises more data than the file holds.
_WAV_CHUNK_TOO_LONG = re.compile(r"^\s*(RIFF|data)\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)
_OGG_CUT_SHORT = {
    "Last page lacks an end-of-stream bit": "the Ogg stream has no end-of-stream page",
    "Junk after the last page": "the Ogg stream ends inside a page",
}
# Streaming writers (e.g. ffmpeg to a pipe) leave this placeholder size; such files are complete.
_PLACEHOLDER_CHUNK_SIZE = 0xFFFFFFFF


def decode_audio(data: bytes, target_sr: int | None = MIMI_SAMPLE_RATE, source: str = "<bytes>") -> tuple[np.ndarray, int]:
    """Decode an in-memory audio file; resample to ``target_sr`` (None keeps the native rate).

    Returns ``(audio, sr)`` with ``audio`` a 1-D float32 array in [-1, 1] (for integer PCM).
    """
    if not data:
        raise AudioDecodeError(source, "empty bytes")
    try:
        with sf.SoundFile(io.BytesIO(data)) as f:
            native_sr = f.samplerate
            truncation = _truncation_reason(f.extra_info)
            frames = f.read(dtype="float32", always_2d=True)
    except sf.LibsndfileError as err:
        # error_string, not str(err): the latter names the BytesIO object, useless in a quarantine table
        raise AudioDecodeError(source, f"libsndfile could not read it: {err.error_string}") from err
    except (RuntimeError, TypeError, ValueError) as err:
        raise AudioDecodeError(source, f"libsndfile could not read it: {err}") from err
    if truncation:
        raise AudioDecodeError(source, truncation)
    if frames.shape[0] == 0:
        raise AudioDecodeError(source, "zero-length audio (no samples)")
    if not np.isfinite(frames).all():
        raise AudioDecodeError(source, "samples contain NaN or inf")
    audio = downmix(frames)
    if target_sr is None:
        return audio, native_sr
    return resample(audio, native_sr, target_sr), target_sr


def load_audio(
    path_or_fileobj: str | os.PathLike | BinaryIO,
    target_sr: int | None = MIMI_SAMPLE_RATE,
    source: str | None = None,
) -> tuple[np.ndarray, int]:
    """Same as ``decode_audio`` for a path or an open binary file; the source defaults to its name."""
    if isinstance(path_or_fileobj, (str, os.PathLike)):
        source = source or os.fspath(path_or_fileobj)
        try:
            with open(path_or_fileobj, "rb") as f:
                data = f.read()
        except OSError as err:
            raise AudioDecodeError(source, f"cannot open file ({err})") from err
    else:
        source = source or str(getattr(path_or_fileobj, "name", "<file object>"))
        data = path_or_fileobj.read()
    return decode_audio(data, target_sr=target_sr, source=source)


def _truncation_reason(libsndfile_log: str) -> str | None:
    """Why the container looks cut short, read from libsndfile's header log; None if it looks whole."""
    for chunk, declared, actual in _WAV_CHUNK_TOO_LONG.findall(libsndfile_log):
        declared, actual = int(declared), int(actual)
        if declared > actual and declared != _PLACEHOLDER_CHUNK_SIZE:
            return f"truncated: the {chunk} chunk declares {declared} bytes but only {actual} are present"
    for log_line, reason in _OGG_CUT_SHORT.items():
        if log_line in libsndfile_log:
            return f"truncated: {reason}"
    return None
