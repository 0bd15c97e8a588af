"""Encoding audio to FLAC/WAV bytes for Parquet and reading it back.

Run: .venv/bin/python -m pytest tests/test_audio_encode.py -q
"""

import numpy as np
import pytest

from salad_core.audio import decode_audio, encode_flac, encode_wav

SR = 24_000


def speechlike(seconds: float = 1.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(SR * seconds)) / SR
    return (0.3 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 3 * t)) / 2 + 0.02 * rng.standard_normal(len(t))).astype(np.float32)


@pytest.mark.parametrize("encode, magic", [(encode_flac, b"fLaC"), (encode_wav, b"RIFF")], ids=["flac", "wav"])
@pytest.mark.parametrize("subtype, step", [("PCM_16", 2**-15), ("PCM_24", 2**-23)])
def test_round_trip_within_one_quantisation_step(encode, magic, subtype, step):
    audio = speechlike()
    data = encode(audio, SR, subtype=subtype)
    assert data[:4] == magic
    back, sr = decode_audio(data, target_sr=None)
    assert sr == SR and len(back) == len(audio)
    assert np.abs(back - audio).max() <= step


def test_flac_is_smaller_than_wav():
    audio = speechlike(2.0)
    assert len(encode_flac(audio, SR)) < 0.9 * len(encode_wav(audio, SR))


def test_values_past_full_scale_are_clipped_not_wrapped():
    audio = np.array([0.0, 1.5, -1.5, 0.5] * 100, np.float32)
    back, _ = decode_audio(encode_flac(audio, SR), target_sr=None)
    assert back[1] > 0.99 and back[2] < -0.99


def test_refuses_nan_and_multichannel():
    with pytest.raises(ValueError, match="NaN"):
        encode_flac(np.array([0.0, np.nan], np.float32), SR)
    with pytest.raises(ValueError, match="mono"):
        encode_wav(np.zeros((10, 2), np.float32), SR)
