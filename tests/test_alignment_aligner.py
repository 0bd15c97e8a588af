"""The word aligner end to end with tiny random wav2vec2 CTC models on real clips.

Random weights give arbitrary but deterministic alignments: what is tested is the plumbing
(loading, 24 → 16 kHz, frame duration from the config, vocabulary case, one timing per word).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from salad_core.alignment import AlignmentError, CTCWordAligner
from salad_core.audio import MIMI_SAMPLE_RATE, load_audio
from tests.ctc_models import REAL_FRAME_RATE, save_tiny_ctc_model

LJ_1455 = 'the earliest book printed with movable types, the Gutenberg, or "forty-two line Bible" of about 1455,'


@pytest.fixture(scope="module")
def aligner(tmp_path_factory) -> CTCWordAligner:
    return CTCWordAligner(save_tiny_ctc_model(tmp_path_factory.mktemp("ctc-lower"), conv=REAL_FRAME_RATE))


@pytest.fixture(scope="module")
def upper_aligner(tmp_path_factory) -> CTCWordAligner:
    return CTCWordAligner(save_tiny_ctc_model(tmp_path_factory.mktemp("ctc-upper"), upper=True, conv=REAL_FRAME_RATE))


def clip(shared_data, name: str) -> np.ndarray:
    audio, _ = load_audio(shared_data / "real_speech" / name, target_sr=MIMI_SAMPLE_RATE)
    return audio


def assert_well_formed(timings: list[dict], text: str, audio: np.ndarray) -> None:
    duration = len(audio) / MIMI_SAMPLE_RATE
    assert [w["word"] for w in timings] == text.split()
    for word, after in zip(timings, timings[1:] + [None]):
        assert 0 <= word["start"] <= word["end"] <= duration
        assert after is None or word["end"] <= after["start"]


def test_one_timing_per_word_in_order_within_the_clip_and_deterministic(shared_data, aligner):
    audio = clip(shared_data, "LJ001-0007.wav")
    timings = aligner.align(audio, LJ_1455)
    assert_well_formed(timings, LJ_1455, audio)
    # "1455," has no letter: a zero-length span right where the word before it ends
    assert timings[-1]["start"] == timings[-1]["end"] == timings[-2]["end"]
    assert all(w["end"] > w["start"] for w in timings[:-1])
    assert aligner.align(audio, LJ_1455) == timings
    assert CTCWordAligner(aligner.model_info()["path"]).align(audio, LJ_1455) == timings


def test_frame_duration_comes_from_the_conv_strides(shared_data, aligner, tmp_path):
    assert aligner.seconds_per_frame == pytest.approx(320 / 16000)
    fast = CTCWordAligner(save_tiny_ctc_model(tmp_path / "fast"))  # strides 5 x 4: 20 samples per frame
    assert fast.seconds_per_frame == pytest.approx(20 / 16000)
    audio = clip(shared_data, "LJ002-0020.wav")
    for model in (aligner, fast):
        timings = model.align(audio, "In eighteen thirteen")
        assert_well_formed(timings, "In eighteen thirteen", audio)
        frames = np.array([[w["start"], w["end"]] for w in timings]) / model.seconds_per_frame
        assert np.allclose(frames, np.round(frames), atol=1e-3)


def test_an_upper_case_vocabulary_aligns_lower_case_text(shared_data, upper_aligner):
    vocab = upper_aligner.vocabulary
    ids = [vocab.chars["I"], vocab.chars["N"], vocab.delimiter, vocab.chars["T"], vocab.chars["H"]]
    assert vocab.target(["in", "8th"]) == (ids, [0, 0, None, 1, 1])
    audio = clip(shared_data, "LJ002-0035.wav")
    timings = upper_aligner.align(audio, "eight the press yard")
    assert_well_formed(timings, "eight the press yard", audio)
    assert all(w["end"] > w["start"] for w in timings)


def test_a_transcript_longer_than_the_audio_allows_is_refused_with_the_numbers(shared_data, aligner):
    audio = clip(shared_data, "LJ002-0020.wav")  # 1.54 s: 76 frames of 20 ms
    with pytest.raises(AlignmentError, match=r"needs at least \d+ frames .* but the audio has 76$"):
        aligner.align(audio, LJ_1455)
    with pytest.raises(AlignmentError, match="but the audio has 0"):
        aligner.align(audio[:100], "in")  # shorter than one conv window: refused before the model runs
    with pytest.raises(AlignmentError, match="no character of the transcript is in the model's vocabulary"):
        aligner.align(audio, "1813 — 42")
    assert aligner.align(audio, "  ") == []


def test_model_info_and_loading_rules(aligner, tmp_path):
    info = aligner.model_info()
    assert info["architecture"] == "wav2vec2" and info["sample_rate"] == 16000 and len(info["files_sha256"]) == 64
    with pytest.raises(FileNotFoundError, match="aligner model folder .* has no config.json"):
        CTCWordAligner(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "whisper"}))
    with pytest.raises(ValueError, match="is a Whisper model; the forced aligner supports CTC models"):
        CTCWordAligner(tmp_path)
