"""A Mimi weights path is never unpickled: a non-.safetensors path is refused by the config and by
the loader, and a pickle renamed .safetensors is refused by content, before moshi (which would
`torch.load` it) sees it, even with torch's weights-only default switched off.

Run: HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/bad_input/test_mimi_weights.py -q
"""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from pydantic import ValidationError

from salad_core.mimi.config import MimiConfig
from salad_core.mimi.tokenizer import MimiTokenizer
from salad_core.mimi.weights import UnsafeWeightsError, build_mimi


class _Payload:
    """Unpickling this creates the marker file: proof that code ran."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.fixture
def crafted(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")  # torch's own guard off: ours must hold
    marker = tmp_path / "code-ran"

    def write(name: str) -> Path:
        path = tmp_path / name
        path.write_bytes(pickle.dumps({"state_dict": _Payload(marker)}))
        return path

    yield write
    assert not marker.exists(), "a crafted pickle was unpickled"


def test_config_refuses_a_pickle_path_naming_the_field(crafted):
    path = crafted("mimi.pt")
    with pytest.raises(ValidationError, match=rf"mimi.weights_path='{path}': only .safetensors weights are loaded"):
        MimiConfig(weights_path=str(path))
    with pytest.raises(ValidationError, match=r"mimi.hf_filename='model.ckpt': only .safetensors weights are loaded"):
        MimiConfig(hf_filename="model.ckpt")


def test_loader_refuses_a_pickle_path_even_without_the_config(crafted):
    path = crafted("mimi.pt")
    with pytest.raises(UnsafeWeightsError, match=rf"Mimi weights_path {path}: only .safetensors files are loaded \(a .pt file"):
        build_mimi(path, seed=0, num_codebooks=8)


def test_a_pickle_renamed_safetensors_is_refused_by_content(crafted):
    path = crafted("mimi.safetensors")
    with pytest.raises(UnsafeWeightsError, match=rf"Mimi weights_path {path}: not a valid safetensors file"):
        MimiTokenizer.load(MimiConfig(weights_path=str(path)))


def test_the_golden_fixtures_hold_no_pickle():
    golden = Path(__file__).resolve().parent.parent / "golden"
    files = sorted(p.relative_to(golden).as_posix() for p in golden.rglob("*") if p.is_file())
    assert files == ["mimi/random_seed0_codes.json", "model/tiny_speech_lm.safetensors"]
