"""Frozen Mimi on real speech: informative codes from fitted random codebooks, frame counts,
batched == single, codes -> latents, save/load through the real-weights path, golden numbers.

Run: .venv/bin/python -m pytest tests/test_mimi_tokenizer.py -q -s    (-s prints measured numbers)
Rewrite the golden file (only after an intended change): SALAD_UPDATE_GOLDEN=1 ... -k golden
Reads the real clips from ../shared/data/real_speech (never copied into the repository).
"""

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from salad_core.audio import load_audio
from salad_core.mimi import CODEBOOK_SIZE, MimiConfig, MimiTokenizer
from salad_core.mimi.codebook_fit import calibration_clips, fit_codebooks
from salad_core.mimi.weights import build_mimi, find_real_weights, read_weights_metadata, save_weights

REAL_SPEECH = Path(__file__).resolve().parents[2] / "shared" / "data" / "real_speech"
GOLDEN = Path(__file__).resolve().parent / "golden" / "mimi" / "random_seed0_codes.json"
CLIPS = sorted(p.name for p in REAL_SPEECH.glob("*") if p.suffix in {".wav", ".flac", ".ogg", ".mp3"})
CROP_SECONDS = 2.0  # long clips are cropped: the suite must stay fast on 2 shared cores
CONFIG = MimiConfig(weights="random", seed=0, codebook_fit={"max_seconds": 4.0}, max_batch_items=18)  # really batch


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """Near-tie RVQ codes can flip when float sums are split over a different number of threads;
    other test modules change torch's thread count, so pin it for every encoding in this module."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def speech() -> dict[str, np.ndarray]:
    assert len(CLIPS) == 18, f"expected the 18 real clips in {REAL_SPEECH}"
    return {name: load_audio(REAL_SPEECH / name)[0] for name in CLIPS}


@pytest.fixture(scope="module")
def calibration(speech) -> list[np.ndarray]:
    return [speech["LJ001-0001.wav"]]  # one speaker, 4 s used: the other 17 clips are unseen speech


@pytest.fixture(scope="module")
def tok(calibration) -> MimiTokenizer:
    return MimiTokenizer.load(CONFIG, calibration_audio=calibration)


@pytest.fixture(scope="module")
def cropped(speech) -> dict[str, np.ndarray]:
    return {name: audio[: int(CROP_SECONDS * 24_000)] for name, audio in speech.items()}


@pytest.fixture(scope="module")
def batched_codes(tok, cropped) -> dict[str, np.ndarray]:
    return dict(zip(cropped, tok.encode_batch(list(cropped.values()))))


def test_untrained_mimi_gives_only_zero_codes():
    """Why the codebook fit exists: moshi leaves untrained codebooks at zero."""
    model = build_mimi(None, seed=0, num_codebooks=8)
    audio = torch.from_numpy(load_audio(REAL_SPEECH / "LJ002-0020.wav")[0][:24_000])[None, None]
    with torch.inference_mode():
        assert (model.encode(audio) == 0).all()


def test_every_real_clip_tokenizes_to_ceil_duration_times_12_5_frames(cropped, batched_codes):
    for name, audio in cropped.items():
        codes = batched_codes[name]
        expected = math.ceil(len(audio) / 24_000 * 12.5)
        assert codes.dtype == np.int16 and codes.shape[1] == 8, name
        assert abs(codes.shape[0] - expected) <= 1, (name, codes.shape, expected)
        assert codes.shape[0] == math.ceil(len(audio) / 1920), name  # exact: whole frames, last one partial
        assert codes.min() >= 0 and codes.max() < CODEBOOK_SIZE


def test_fitted_codes_are_informative_on_unseen_speech(batched_codes):
    unseen = np.concatenate([c for name, c in batched_codes.items() if not name.startswith("LJ001-0001")])
    distinct = [len(np.unique(unseen[:, level])) for level in range(8)]
    print(f"\ndistinct codes per level over {len(unseen)} unseen frames: {distinct}")
    assert (unseen != 0).any()
    assert min(distinct) > 50, distinct  # ~180-320 measured; 1 with untrained codebooks
    per_clip_level0 = [len(np.unique(c[:, 0])) for c in batched_codes.values()]
    assert min(per_clip_level0) > 3, per_clip_level0  # codes change along every clip


def test_batched_codes_equal_single_clip_codes(tok, cropped, batched_codes):
    """Padding is at the end and the encoder is causal, so only float rounding (batch-shape
    dependent matmuls, ~1e-8 on the latents) differs; that flips a code only at a near tie.
    Measured: 100% identical over 18 clips x 6 s. Threshold 99.5% leaves room for one rare tie.
    The batch holds all 18 cropped clips, so the shorter clips below were padded in it."""
    names = ["LJ002-0020.wav", "LJ001-0008.wav", "common_voice_en_651325.mp3"]
    single = [tok.encode_batch([cropped[n]])[0] for n in names]
    together = [batched_codes[n] for n in names]
    same = sum(int((a == b).sum()) for a, b in zip(single, together))
    total = sum(a.size for a in single)
    print(f"\nbatched vs single: {same}/{total} codes identical ({same / total:.2%})")
    assert all(a.shape == b.shape for a, b in zip(single, together))
    assert same / total >= 0.995
    latents_single = tok.latents_batch([cropped[names[0]]])[0]
    latents_batched = tok.latents_batch([cropped[names[0]], cropped["jfk.flac"]])[0]
    np.testing.assert_allclose(latents_single, latents_batched, atol=1e-6)


def test_chunked_encoding_equals_moshis_whole_pass_on_long_clips(tok, speech):
    """CPU runs the convolutional encoder in time chunks (for cache locality): codes and latents must
    be those of moshi's own one-pass ``encode``, also past 10 s, where chunking the transformer too
    (its ring attention cache wraps) changed 2-3% of the codes."""
    clips = [speech["jfk.flac"], speech["librispeech-3436-172162-0000.ogg"][: 24_000 * 14]]  # 11 s, 14 s
    with torch.inference_mode():
        reference = [tok.model.encode(torch.from_numpy(c)[None, None])[0].T.numpy() for c in clips]
        reference_latents = [tok.model.encode_to_latent(torch.from_numpy(c)[None, None], quantize=False)[0].T.numpy() for c in clips]
    for chunk in (3, 32):
        chunked = MimiTokenizer(tok.model, CONFIG.model_copy(update={"chunk_frames": chunk, "max_batch_items": 1}), {})
        codes = chunked.encode_batch(clips)
        assert [c.shape for c in codes] == [c.shape for c in reference]
        same = np.mean(np.concatenate([(a == b).ravel() for a, b in zip(codes, reference)]))
        assert same >= 0.995, f"chunk {chunk}: {same:.2%} identical"  # measured 100%
        for a, b in zip(chunked.latents_batch(clips), reference_latents):
            np.testing.assert_allclose(a, b, atol=1e-5)


def test_codes_to_latents_is_the_quantizer_decode(tok, cropped, batched_codes):
    names = ["LJ002-0020.wav", "common_voice_en_651325.mp3"]
    # the same batch composition as latents_batch below: a different padding can flip a near-tie code
    encoded = tok.encode_batch([cropped[n] for n in names])
    frames = min(len(c) for c in encoded)
    codes = torch.from_numpy(np.stack([c[:frames].T for c in encoded]))  # (B, K, T) int16
    latents = tok.codes_to_latents(codes)
    assert latents.shape == (2, 512, frames) and latents.dtype == torch.float32
    quantized = tok.latents_batch([cropped[n] for n in names], quantize=True)
    for row, q in zip(latents, quantized):
        torch.testing.assert_close(row, torch.from_numpy(q[:frames].T), atol=1e-5, rtol=1e-4)
    decoder = tok.code_decoder()
    assert not any(p.requires_grad for p in decoder.parameters())
    torch.testing.assert_close(decoder(codes), latents)
    assert tok.codes_to_latents(codes[:, :1]).shape == (2, 512, frames)  # fewer levels: coarser latents
    with pytest.raises(ValueError, match="2048"):
        tok.codes_to_latents(torch.full((1, 8, 3), CODEBOOK_SIZE))


def test_empty_inputs(tok):
    assert tok.encode_batch([]) == []
    empty = tok.encode_batch([np.zeros(0, np.float32)])[0]
    assert empty.shape == (0, 8) and empty.dtype == np.int16


def test_encode_to_latent_takes_a_padded_tensor_batch(tok, cropped):
    audio = cropped["LJ002-0020.wav"][:24_000]
    latents = tok.encode_to_latent(torch.from_numpy(np.stack([audio, audio[::-1].copy()])))
    assert latents.shape == (2, 512, 13)
    np.testing.assert_allclose(latents[0].T.numpy(), tok.latents_batch([audio])[0], atol=1e-6)


def test_model_is_frozen_and_reports_random_weights(tok):
    assert not tok.model.training and not any(p.requires_grad for p in tok.model.parameters())
    info = tok.model_info()
    assert info["random_weights"] is True and info["seed"] == 0
    assert len(info["weights_sha256"]) == 64 and info["num_codebooks"] == 8 and info["frame_rate"] == 12.5


def test_same_seed_same_model_and_codebooks_other_seed_other_codebooks(tok, calibration):
    """Determinism of the two random steps; the golden test pins the whole chain across runs."""
    first, second = build_mimi(None, seed=0, num_codebooks=8), build_mimi(None, seed=0, num_codebooks=8)
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), second.state_dict().values()))
    fit = CONFIG.codebook_fit.model_copy(update={"max_seconds": 2.0})
    latents = torch.from_numpy(np.concatenate(tok.latents_batch(calibration_clips(calibration, fit))))
    fit_codebooks(first.quantizer, latents, fit, seed=0)
    fit_codebooks(second.quantizer, latents, fit, seed=0)
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), second.state_dict().values()))
    fit_codebooks(second.quantizer, latents, fit, seed=1)
    level0 = lambda m: m.quantizer.rvq_first.vq.layers[0]._codebook.embedding  # noqa: E731
    assert not torch.allclose(level0(first), level0(second))


def test_saved_random_weights_are_codebooks_plus_seed_and_reload_identically(tok, cropped, batched_codes, tmp_path):
    path = tmp_path / "mimi-random-seed0.safetensors"
    tok.save(path)
    assert path.stat().st_size < 80e6  # the fitted codebooks (67 MB), not the whole 385 MB model
    loaded = MimiTokenizer.load(MimiConfig(weights_path=str(path)))  # no calibration audio needed
    info = loaded.model_info()
    assert info["random_weights"] is True and info["seed"] == 0 and info["weights_file"] == str(path)
    assert info["weights_sha256"] == tok.model_info()["weights_sha256"]
    clip = [cropped["LJ002-0020.wav"]]  # same call on both sides: batch composition can flip near-ties
    np.testing.assert_array_equal(loaded.encode_batch(clip)[0], tok.encode_batch(clip)[0])
    with pytest.raises(ValueError, match="random Mimi weights"):
        MimiTokenizer.load(MimiConfig(weights="real", weights_path=str(path)))
    # a seeded init that differs from the one the codebooks were fitted on is refused, not used
    from safetensors.torch import load_file, save_file

    metadata = read_weights_metadata(path)
    other = tmp_path / "other-init.safetensors"
    save_file(load_file(str(path)), str(other), metadata={**metadata, "salad.full_weights_sha256": "0" * 64})
    with pytest.raises(ValueError, match="initialises differently; fit the codebooks again"):
        MimiTokenizer.load(MimiConfig(weights_path=str(other)))


def test_checkpoint_in_the_hf_cache_is_found_offline_and_counts_as_real(tok, cropped, batched_codes, tmp_path):
    """Lay out a Hugging Face cache holding a Kyutai-style checkpoint (no metadata of ours)."""
    config = MimiConfig(hf_cache_dir=str(tmp_path))
    assert find_real_weights(config) is None
    repo = tmp_path / f"models--{config.hf_repo.replace('/', '--')}"
    revision = "0" * 40
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(revision)
    checkpoint = repo / "snapshots" / revision / config.hf_filename
    save_weights(tok.model, checkpoint, metadata={})
    assert find_real_weights(config) == checkpoint
    real = MimiTokenizer.load(config)
    assert real.model_info()["random_weights"] is False
    clip = [cropped["LJ002-0020.wav"]]
    np.testing.assert_array_equal(real.encode_batch(clip)[0], tok.encode_batch(clip)[0])


def test_missing_weights_and_missing_calibration_fail_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match="never downloads"):
        MimiTokenizer.load(MimiConfig(weights="real", hf_cache_dir=str(tmp_path)))
    with pytest.raises(ValueError, match="calibration_audio"):
        MimiTokenizer.load(MimiConfig(weights="random"))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        MimiTokenizer.load(MimiConfig(weights_path=str(tmp_path / "none.safetensors")))


def test_bfloat16_autocast_mostly_agrees_with_float32(tok, cropped, batched_codes):
    bf16 = MimiTokenizer(tok.model, CONFIG.model_copy(update={"dtype": "bfloat16"}), {})
    codes = bf16.encode_batch([cropped["jfk.flac"]])[0]
    agreement = (codes[:, 0] == batched_codes["jfk.flac"][:, 0]).mean()
    print(f"\nbf16 vs fp32 level-0 agreement: {agreement:.0%}")
    assert agreement >= 0.75  # measured 92-97%; deeper levels drift more, as expected at 8 mantissa bits


def test_golden_codes_and_codebooks(tok, speech):
    """Pins the whole chain (torch's seeded init, moshi's encoder, our fit) on a 1-s clip."""
    codes = tok.encode_batch([speech["LJ002-0020.wav"][:24_000]])[0]
    quantizer = tok.model.quantizer
    levels = [quantizer.rvq_first.vq.layers[0], *quantizer.rvq_rest.vq.layers[:2]]
    codebook_corner = [layer._codebook.embedding[:4, :8].tolist() for layer in levels]
    current = {"clip": "LJ002-0020.wav[:1s]", "codes": codes.tolist(), "codebook_corner": codebook_corner}
    if os.environ.get("SALAD_UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(json.dumps(current, indent=None) + "\n")
    golden = json.loads(GOLDEN.read_text())
    assert codes.shape == (13, 8)
    agreement = (codes == np.array(golden["codes"])).mean()
    assert agreement >= 0.95, f"only {agreement:.0%} of the golden codes reproduced"  # a rare tie may flip
    np.testing.assert_allclose(np.array(codebook_corner), np.array(golden["codebook_corner"]), atol=1e-4, rtol=1e-3)
