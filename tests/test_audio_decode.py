"""Decoding every real corpus format to 24 kHz mono float32, and refusing broken bytes by name.

Run: .venv/bin/python -m pytest tests/test_audio_decode.py -q
Reads the real clips from ../shared/data/real_speech (never copied into the repository).
"""

import io
import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from salad_core.audio import AudioDecodeError, decode_audio, encode_wav, load_audio

REAL_SPEECH = Path(__file__).resolve().parents[2] / "shared" / "data" / "real_speech"
CLIPS = [
    *(f"LJ001-000{i}.wav" for i in range(1, 9)),
    "LJ002-0020.wav",
    "LJ002-0035.wav",
    "librispeech-1995-1837-0001.wav",
    "librispeech-2412-153948-0000.flac",
    "librispeech-2412-153948-0001.flac",
    "librispeech-198-209-0000.ogg",
    "librispeech-3436-172162-0000.ogg",
    "librispeech-5703-47212-0000.ogg",
    "common_voice_en_651325.mp3",
    "jfk.flac",
]
ONE_MS = 1e-3


@pytest.mark.parametrize("name", CLIPS)
def test_real_clip_decodes_to_24k_mono_float32_with_the_right_duration(name):
    path = REAL_SPEECH / name
    audio, sr = load_audio(path)
    assert sr == 24_000 and audio.dtype == np.float32 and audio.ndim == 1
    assert np.isfinite(audio).all()
    assert 0.01 < np.sqrt(np.mean(audio**2)) and np.abs(audio).max() < 1.2  # speech, not silence or garbage
    native, native_sr = sf.read(path, dtype="float32", always_2d=True)
    decoded_seconds = len(native) / native_sr
    assert abs(len(audio) / sr - decoded_seconds) < ONE_MS
    info = sf.info(path)
    if path.suffix == ".mp3":
        # MP3 has no length field: libsndfile's info guesses from the bitrate (here 4 ms long)
        assert abs(info.duration - decoded_seconds) < 0.03
    else:
        assert abs(len(audio) / sr - info.duration) < ONE_MS


def test_stereo_24bit_is_downmixed_by_averaging_and_keeps_24bit_precision():
    audio, sr = load_audio(REAL_SPEECH / "jfk.flac", target_sr=None)
    native, native_sr = sf.read(REAL_SPEECH / "jfk.flac", dtype="float32", always_2d=True)
    assert native.shape[1] == 2 and sr == native_sr == 44_100
    np.testing.assert_allclose(audio, native.mean(axis=1), atol=1e-7)
    left = native[:, 0]
    assert not np.allclose(left * 32768, np.round(left * 32768))  # finer than 16-bit steps


def test_resampling_keeps_a_tone_clean():
    t16, t24 = np.arange(16_000) / 16_000, np.arange(24_000) / 24_000
    tone = (0.5 * np.sin(2 * np.pi * 1000 * t16)).astype(np.float32)
    audio, sr = decode_audio(encode_wav(tone, 16_000, subtype="FLOAT"), source="tone")
    expected = 0.5 * np.sin(2 * np.pi * 1000 * t24)
    middle = slice(1_000, -1_000)  # away from the filter's edge transients
    assert sr == 24_000 and len(audio) == 24_000
    assert np.abs(audio[middle] - expected[middle]).max() < 1e-3


def test_file_object_and_bytes_give_the_same_audio():
    path = REAL_SPEECH / "LJ002-0020.wav"
    from_path, _ = load_audio(path)
    with open(path, "rb") as f:
        from_file, _ = load_audio(f)
    from_bytes, _ = decode_audio(path.read_bytes(), source=path.name)
    np.testing.assert_array_equal(from_path, from_file)
    np.testing.assert_array_equal(from_path, from_bytes)


TRUNCATABLE = ["LJ002-0020.wav", "librispeech-2412-153948-0000.flac", "librispeech-198-209-0000.ogg"]


@pytest.mark.parametrize("name", TRUNCATABLE)
@pytest.mark.parametrize("keep", [0.5, 0.99], ids=["half", "last-1pct-missing"])
def test_truncated_file_raises_naming_the_source(name, keep):
    data = (REAL_SPEECH / name).read_bytes()
    with pytest.raises(AudioDecodeError, match=f"{name}.*truncated|{name}.*could not read") as err:
        decode_audio(data[: int(len(data) * keep)], source=f"shard-7/{name}")
    assert f"shard-7/{name}" in str(err.value) and err.value.source == f"shard-7/{name}"


def test_truncated_mp3_decodes_what_is_there():
    """MP3 has no length field, so a cut MP3 is just a shorter MP3: documented, not an error."""
    data = (REAL_SPEECH / "common_voice_en_651325.mp3").read_bytes()
    full, _ = decode_audio(data)
    half, _ = decode_audio(data[: len(data) // 2])
    assert 0.4 < len(half) / len(full) < 0.6


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "empty bytes"),
        (np.random.default_rng(0).bytes(4000), "could not read"),
        (b"RIFF\x00\x00\x00\x00WAVEjunk", "could not read"),
        (encode_wav(np.zeros(100, np.float32), 16_000)[:44], "zero-length|truncated"),
    ],
    ids=["empty", "random-bytes", "bad-header", "header-only-wav"],
)
def test_undecodable_bytes_raise_naming_the_source(data, reason):
    with pytest.raises(AudioDecodeError, match=f"row 42.*({reason})"):
        decode_audio(data, source="row 42")


@pytest.mark.parametrize("bad", [np.nan, np.inf], ids=["nan", "inf"])
def test_non_finite_samples_raise(bad):
    audio = np.zeros(1000, np.float32)
    audio[500] = bad
    buffer = io.BytesIO()
    sf.write(buffer, audio, 16_000, format="WAV", subtype="FLOAT")  # float WAV can carry NaN/inf
    with pytest.raises(AudioDecodeError, match="float.wav.*NaN or inf"):
        decode_audio(buffer.getvalue(), source="float.wav")


def test_streaming_wav_placeholder_size_is_not_truncation():
    """ffmpeg writing to a pipe leaves 0xFFFFFFFF as the chunk sizes; the audio is complete."""
    tone = (0.3 * np.sin(np.arange(8000) / 5)).astype(np.float32)
    data = bytearray(encode_wav(tone, 16_000))
    data[4:8] = data[40:44] = struct.pack("<I", 0xFFFFFFFF)
    audio, sr = decode_audio(bytes(data), target_sr=None)
    assert sr == 16_000 and len(audio) == 8000


def test_missing_file_raises_naming_it(tmp_path):
    with pytest.raises(AudioDecodeError, match="nowhere.flac.*cannot open"):
        load_audio(tmp_path / "nowhere.flac")
