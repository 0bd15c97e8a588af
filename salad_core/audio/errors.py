"""The one exception audio decoding raises, so callers can quarantine a row instead of crashing.

Usage:
    try:
        audio, sr = decode_audio(blob, source="emilia/EN-B000001.tar:EN_B00001_S00002.mp3")
    except AudioDecodeError as err:
        quarantine(row, reason=str(err))     # the message names the source and the cause
"""

from __future__ import annotations


class AudioDecodeError(ValueError):
    """Bytes that do not yield usable audio (corrupt, truncated, empty, silent-length, NaN/inf).

    ``source`` and ``reason`` are kept apart from the message so a quarantine table can store the
    reason without parsing text.
    """

    def __init__(self, source: str, reason: str):
        self.source = source
        self.reason = reason
        super().__init__(f"cannot decode audio from {source}: {reason}")
