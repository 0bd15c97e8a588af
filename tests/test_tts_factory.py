"""TTSConfig validation and make_backend."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from salad_core.tts import TTSConfig, make_backend


def test_default_is_espeak():
    backend = make_backend(TTSConfig())
    assert backend.name == "espeak"
    assert backend.model_info()["random_weights"] is False
    assert len(backend.voices()) > 1


def test_espeak_voices_and_rate_from_config():
    backend = make_backend(TTSConfig(voices=["en-us+f3"], espeak_rate=200))
    assert backend.voices() == ["en-us+f3"] and backend.model_info()["rate"] == 200


def test_random_weights_is_kokoro_only():
    with pytest.raises(ValueError, match="Kokoro test mode"):
        make_backend(TTSConfig(backend="espeak", random_weights=True))


def test_kokoro_settings_reach_the_backend(monkeypatch, tmp_path):
    """Wiring only (the Kokoro backend itself is tested in test_tts_kokoro.py)."""
    pytest.importorskip("kokoro")
    from salad_core.tts import kokoro_backend

    received = {}
    monkeypatch.setattr(kokoro_backend, "KokoroBackend", lambda **kwargs: received.update(kwargs) or "built")
    config = TTSConfig(
        backend="kokoro", random_weights=True, seed=3, voices=["af_heart", "af_bella"], device="cuda",
        dtype="bfloat16", kokoro_weights_dir=tmp_path, kokoro_revision="abc", speed=1.1,
    )  # fmt: skip
    assert make_backend(config) == "built"
    assert received == {
        "voices": ["af_heart", "af_bella"], "weights_dir": tmp_path, "repo_id": "hexgrad/Kokoro-82M",
        "revision": "abc", "hf_cache_dir": None, "random_weights": True, "seed": 3, "device": "cuda",
        "dtype": "bfloat16", "speed": 1.1,
    }  # fmt: skip


@pytest.mark.parametrize(
    "fields",
    [{"backend": "festival"}, {"espeak_rate": 20}, {"voices": []}, {"dtype": "int8"}, {"typo_field": 1}],
    ids=["backend", "rate", "no-voices", "dtype", "unknown-field"],
)
def test_invalid_config_is_rejected(fields):
    with pytest.raises(ValidationError):
        TTSConfig(**fields)
