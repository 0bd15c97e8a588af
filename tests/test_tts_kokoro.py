"""Kokoro backend, offline: the random-weight test mode and the real-weights loading path.

The real-weights path is exercised on files the test writes in the real checkpoint layout
(config.json, kokoro-v1_0.pth, voices/af_heart.pt), so it runs without the 330 MB download.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("kokoro")

from salad_core.tts.interface import SAMPLE_RATE  # noqa: E402
from salad_core.tts.kokoro_backend import KokoroBackend  # noqa: E402
from salad_core.tts.kokoro_weights import (  # noqa: E402
    KokoroWeightsNotFound,
    find_kokoro_files,
    save_kokoro_folder,
    sha256_file,
)

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::FutureWarning", "ignore::DeprecationWarning")

SENTENCE = "The cat sat on the mat, then slept."
SHORT = "Hello there."  # for comparisons: random Kokoro runs at ~0.3x real time on 2 CPU cores


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """On a shared 2-core machine, 2 OpenMP threads spin against other processes (up to 10x slower)."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def random_backend() -> KokoroBackend:
    return KokoroBackend(voices=["af_heart"], random_weights=True, seed=0)


@pytest.fixture(scope="module")
def spoken(random_backend):
    return random_backend.synthesize(SENTENCE, "af_heart")


@pytest.fixture(scope="module")
def saved_folder(random_backend, tmp_path_factory) -> Path:
    packs = {"af_heart": random_backend.pipeline.voices["af_heart"]}
    return save_kokoro_folder(random_backend.model, packs, tmp_path_factory.mktemp("kokoro") / "Kokoro-82M")


def test_test_mode_contract(spoken, random_backend):
    assert spoken.sample_rate == SAMPLE_RATE == 24_000
    assert spoken.audio.dtype == np.float32 and spoken.audio.ndim == 1
    assert np.all(np.isfinite(spoken.audio)) and np.sqrt(np.mean(spoken.audio**2)) > 1e-3
    assert spoken.random_weights is True and spoken.backend == "kokoro"
    assert random_backend.model_info()["random_weights"] is True


def test_test_mode_duration_is_bounded(spoken):
    """Random duration heads give ~0.6 s per phoneme; the test mode must stay near speech rate."""
    n_words = len(SENTENCE.split())
    assert 0.15 * n_words < spoken.duration_s < 0.8 * n_words


def test_word_timings(spoken):
    timings = spoken.word_timings
    assert [w for w, _, _ in timings] == SENTENCE.split()
    starts = [s for _, s, _ in timings]
    assert starts == sorted(starts)
    assert all(0 <= s < e <= spoken.duration_s + 1e-9 for _, s, e in timings)


@pytest.fixture(scope="module")
def short(random_backend):
    return random_backend.synthesize(SHORT, "af_heart")


def test_same_seed_same_samples(random_backend, short):
    """Kokoro's vocoder draws random phases: each call must run under its own seeded RNG."""
    random_backend.synthesize("In between.", "af_heart")
    assert np.array_equal(random_backend.synthesize(SHORT, "af_heart").audio, short.audio)
    fresh = KokoroBackend(voices=["af_heart"], random_weights=True, seed=0)
    assert np.array_equal(fresh.synthesize(SHORT, "af_heart").audio, short.audio)


def test_different_seed_different_samples(short):
    other = KokoroBackend(voices=["af_heart"], random_weights=True, seed=1).synthesize(SHORT, "af_heart")
    n = min(len(other.audio), len(short.audio))
    assert not np.allclose(other.audio[:n], short.audio[:n], atol=1e-4)


def test_real_weights_path_reproduces_the_saved_model(saved_folder, short):
    assert sorted(p.name for p in saved_folder.iterdir()) == ["config.json", "kokoro-v1_0.pth", "voices"]
    loaded = KokoroBackend(voices=["af_heart"], weights_dir=saved_folder, seed=0)
    again = loaded.synthesize(SHORT, "af_heart")
    assert np.array_equal(again.audio, short.audio)
    assert again.random_weights is False
    info = loaded.model_info()
    assert info["random_weights"] is False
    assert info["weights_sha256"] == sha256_file(saved_folder / "kokoro-v1_0.pth")
    assert set(info["voice_sha256"]) == {"af_heart"}
    assert info["model_id"] == "hexgrad/Kokoro-82M" and info["source"] == "local"
    assert str(saved_folder) in info["local_paths"]["weights"]  # paths only under local_paths
    assert str(saved_folder) not in str({k: v for k, v in info.items() if k != "local_paths"})


def test_hf_cache_layout_is_found_offline(saved_folder, tmp_path):
    """A pre-filled HF cache (snapshots/<commit>/...) resolves without the network; the commit is the revision."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "models--hexgrad--Kokoro-82M"
    snapshot = repo / "snapshots" / commit
    (snapshot / "voices").mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    for name in ("config.json", "kokoro-v1_0.pth", "voices/af_heart.pt"):
        os.symlink(saved_folder / name, snapshot / name)
    files = find_kokoro_files(["af_heart"], repo_id="hexgrad/Kokoro-82M", cache_dir=tmp_path)
    assert files.revision == commit and files.source == "hf:hexgrad/Kokoro-82M"
    assert files.voices["af_heart"].name == "af_heart.pt"


def test_missing_weights_fail_clearly_and_never_fall_back_to_random(tmp_path):
    with pytest.raises(KokoroWeightsNotFound, match="random_weights=True"):
        KokoroBackend(voices=["af_heart"], hf_cache_dir=tmp_path)
    with pytest.raises(KokoroWeightsNotFound, match="kokoro-v1_0.pth"):
        find_kokoro_files(["af_bella"], weights_dir=tmp_path)  # empty folder
    (tmp_path / "kokoro-v1_0.pth").touch()
    with pytest.raises(KokoroWeightsNotFound, match="voices/af_bella.pt"):
        find_kokoro_files(["af_bella"], weights_dir=tmp_path)


def test_unknown_voice(random_backend):
    with pytest.raises(ValueError, match="was not loaded"):
        random_backend.synthesize("hello", "am_adam")


def test_bfloat16_runs_through_autocast(short):
    """bf16 weights would break on CPU (no oneDNN bf16 LSTM); autocast keeps it working."""
    half = KokoroBackend(voices=["af_heart"], random_weights=True, seed=0, dtype="bfloat16")
    out = half.synthesize(SHORT, "af_heart")
    assert out.audio.dtype == np.float32 and len(out.audio) == len(short.audio)  # fixed test-mode durations
    assert np.all(np.isfinite(out.audio)) and not np.array_equal(out.audio, short.audio)
    assert half.model_info()["dtype"] == "bfloat16"
