"""espeak-ng backend: real speech at 24 kHz, plausible length, word timings, reproducible."""

from __future__ import annotations

import numpy as np
import pytest

from salad_core.tts.espeak import EspeakBackend
from salad_core.tts.interface import SAMPLE_RATE

SENTENCE = "The quick brown fox jumps over the lazy dog, and then it rests in the shade of an old tree."


@pytest.fixture(scope="module")
def backend() -> EspeakBackend:
    return EspeakBackend(voices=["en-us", "en-us+f3", "en+m3"], rate=175)


@pytest.fixture(scope="module")
def spoken(backend):
    return backend.synthesize(SENTENCE, "en-us")


def test_audio_contract(spoken):
    assert spoken.sample_rate == SAMPLE_RATE == 24_000
    assert spoken.audio.dtype == np.float32 and spoken.audio.ndim == 1
    assert np.all(np.isfinite(spoken.audio))
    assert np.abs(spoken.audio).max() <= 1.0
    assert spoken.backend == "espeak" and spoken.random_weights is False and spoken.voice == "en-us"


def test_duration_plausible_for_word_count(spoken):
    n_words = len(SENTENCE.split())
    assert 0.15 * n_words < spoken.duration_s < 0.8 * n_words


def test_not_silent(spoken):
    rms = float(np.sqrt(np.mean(spoken.audio**2)))
    assert rms > 0.02
    # speech has pauses and voiced parts: the loudness must vary along the clip
    frames = spoken.audio[: len(spoken.audio) // 480 * 480].reshape(-1, 480)
    frame_rms = np.sqrt((frames**2).mean(axis=1))
    assert (frame_rms < 0.01).mean() > 0.02 and (frame_rms > 0.05).mean() > 0.3


def test_word_timings_one_per_word_monotone_inside_clip(spoken):
    words = SENTENCE.split()
    timings = spoken.word_timings
    assert [w for w, _, _ in timings] == words
    starts = [s for _, s, _ in timings]
    assert starts == sorted(starts) and starts[0] == 0.0
    for (_, start, end), next_start in zip(timings, starts[1:] + [spoken.duration_s]):
        assert 0.0 <= start < end <= next_start + 1e-9 <= spoken.duration_s + 1e-9
        assert end - start > 0.03  # every word takes audible time


def test_word_timings_follow_the_audio(spoken):
    """The comma makes a pause: the gap between "dog," and "and" must be (nearly) silent."""
    timings = dict((w, (s, e)) for w, s, e in spoken.word_timings)
    gap_start, gap_end = timings["dog,"][1], timings["and"][0]
    assert gap_end - gap_start > 0.05
    gap = spoken.audio[int(gap_start * SAMPLE_RATE) : int(gap_end * SAMPLE_RATE)]
    word = spoken.audio[int(timings["fox"][0] * SAMPLE_RATE) : int(timings["fox"][1] * SAMPLE_RATE)]
    assert np.sqrt(np.mean(gap**2)) < 0.1 * np.sqrt(np.mean(word**2))


def test_deterministic_across_calls(backend, spoken):
    backend.synthesize("Something else first, to disturb any state.", "en-us+f3")
    again = backend.synthesize(SENTENCE, "en-us")
    assert np.array_equal(again.audio, spoken.audio)
    assert again.word_timings == spoken.word_timings


def test_voices_differ(backend, spoken):
    other = backend.synthesize(SENTENCE, "en-us+f3")
    n = min(len(other.audio), len(spoken.audio))
    assert not np.allclose(other.audio[:n], spoken.audio[:n], atol=1e-3)


def test_rate_changes_duration():
    slow = EspeakBackend(voices=["en-us"], rate=120).synthesize(SENTENCE, "en-us")
    fast = EspeakBackend(voices=["en-us"], rate=300).synthesize(SENTENCE, "en-us")
    assert slow.duration_s > 1.8 * fast.duration_s


def test_unknown_voice_is_rejected_early():
    with pytest.raises(ValueError, match="no voice named"):
        EspeakBackend(voices=["en-us", "xx-notalanguage"])


def test_unknown_voice_at_synthesis(backend):
    with pytest.raises(ValueError, match="no voice named"):
        backend.synthesize("hello", "zz-nope")


def test_model_info(backend):
    info = backend.model_info()
    assert info["backend"] == "espeak" and info["model_id"] == "espeak-ng"
    assert info["random_weights"] is False
    assert info["revision"][:1].isdigit()  # library version, e.g. "1.51"
    assert info["voices"] == ["en-us", "en-us+f3", "en+m3"]


def test_missing_library_names_the_debian_package(monkeypatch):
    from salad_core.tts import espeak

    monkeypatch.setenv("SALAD_ESPEAK_LIBRARY", "/nonexistent/libespeak-ng.so.1")
    monkeypatch.setattr(espeak.EspeakWorker, "_instance", None)
    with pytest.raises(RuntimeError, match="Debian package espeak-ng"):
        EspeakBackend()
