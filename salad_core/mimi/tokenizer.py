"""The frozen Mimi speech tokenizer: 24 kHz audio -> 12.5 Hz frames of RVQ codes or 512-d latents.

Usage:
    from salad_core.mimi import MimiConfig, MimiTokenizer
    tok = MimiTokenizer.load(MimiConfig())                       # real weights if cached locally ...
    tok = MimiTokenizer.load(MimiConfig(weights="random"), calibration_audio=[speech_24k, ...])
    tok.save("mimi-random-seed0.safetensors")                    # ... build once, then reuse:
    tok = MimiTokenizer.load(MimiConfig(weights_path="mimi-random-seed0.safetensors"))

    codes = tok.encode_batch([audio_a, audio_b])     # [(frames_a, 8) int16, (frames_b, 8) int16]
    [(codes_a, latents_a)] = tok.encode_with_latents([audio_a])   # both from one encoder pass
    latents = tok.latents_batch([audio_a], quantize=False)     # [(frames_a, 512) float32]
    tok.codes_to_latents(torch.as_tensor(codes[0].T[None]))    # (1, 512, frames_a)
    tok.model_info()     # {"random_weights": ..., "weights_sha256": ..., ...} for the manifest

A clip of n samples gives ceil(n / 1920) frames. Clips are batched by similar length and padded
at the end; the encoder is causal, so a clip's codes do not depend on what it was batched with.
On CPU the convolutional encoder runs over a batch in short time chunks through its streaming
state, which keeps the activations in cache (see MimiConfig.chunk_frames); the codes are those
of one whole pass.
Random weights need calibration speech because moshi leaves untrained codebooks at zero (every
code would be 0); see codebook_fit.py.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from importlib.metadata import version
from pathlib import Path

import numpy as np
import torch
from moshi.models.compression import MimiModel

from salad_core.mimi.batching import pad_batch, plan_batches
from salad_core.mimi.codebook_fit import calibration_clips, fit_codebooks
from salad_core.mimi.config import (
    FRAME_RATE,
    LATENT_DIM,
    SAMPLE_RATE,
    SAMPLES_PER_FRAME,
    MimiConfig,
    frames_for_samples,
)
from salad_core.mimi.latents import CodesToLatents, codes_to_latents
from salad_core.mimi.weights import (
    build_mimi,
    find_real_weights,
    load_codebooks,
    read_weights_metadata,
    save_weights,
    weights_sha256,
)

_RANDOM_KEY = "salad.random_weights"
_FIT_KEY = "salad.codebook_fit"
_FULL_SHA_KEY = "salad.full_weights_sha256"  # set on codebooks-only files (random weights)


class MimiTokenizer:
    """Owns one frozen Mimi; build it with ``load``."""

    def __init__(self, model: MimiModel, config: MimiConfig, provenance: dict):
        self.model = model
        self.config = config
        self._provenance = provenance
        self._sha256: str | None = None

    # ---------------------------------------------------------------- building

    @classmethod
    def load(cls, config: MimiConfig, calibration_audio: Sequence[np.ndarray] | None = None) -> MimiTokenizer:
        """Real weights when found (file or HF cache), else seeded random ones fitted on ``calibration_audio``."""
        path = None if config.weights == "random" else find_real_weights(config)
        if path is not None:
            return cls._from_file(path, config)
        if config.weights == "real":
            raise FileNotFoundError(
                f"real Mimi weights not found: set weights_path, or put {config.hf_filename} from "
                f"{config.hf_repo} in the Hugging Face cache (this code never downloads)"
            )
        if calibration_audio is None:
            raise ValueError(
                "random Mimi weights need calibration_audio (a few seconds of 24 kHz speech) to fit the "
                "codebooks, which moshi leaves at zero; or pass a weights_path saved earlier with save()"
            )
        return cls._random_fitted(config, calibration_audio)

    @classmethod
    def _from_file(cls, path: Path, config: MimiConfig) -> MimiTokenizer:
        metadata = read_weights_metadata(path)
        random_weights = metadata.get(_RANDOM_KEY) == "true"
        if random_weights and config.weights == "real":
            raise ValueError(f"{path} holds random Mimi weights (saved by save()), but weights='real' was asked")
        provenance = {"random_weights": random_weights, "weights_file": str(path)}
        if random_weights:
            provenance.update(json.loads(metadata[_FIT_KEY]))
        if _FULL_SHA_KEY in metadata:  # codebooks only: the rest is the seeded initialisation
            model = build_mimi(None, seed=provenance["seed"], num_codebooks=config.num_codebooks, device=config.device)
            load_codebooks(model, path, metadata[_FULL_SHA_KEY])
        else:
            model = build_mimi(path, seed=config.seed, num_codebooks=config.num_codebooks, device=config.device)
        return cls(model, config, provenance)

    @classmethod
    def _random_fitted(cls, config: MimiConfig, calibration_audio: Sequence[np.ndarray]) -> MimiTokenizer:
        model = build_mimi(None, seed=config.seed, num_codebooks=config.num_codebooks, device=config.device)
        tokenizer = cls(model, config, {})
        clips = calibration_clips(calibration_audio, config.codebook_fit)
        latents = torch.from_numpy(np.concatenate(tokenizer.latents_batch(clips, quantize=False)))
        fit_codebooks(model.quantizer, latents, config.codebook_fit, seed=config.seed)
        tokenizer._provenance = {
            "random_weights": True,
            "seed": config.seed,
            "codebook_fit": config.codebook_fit.model_dump(),
            "calibration_sha256": _audio_sha256(calibration_audio),
            "calibration_seconds": round(sum(map(len, clips[:: config.codebook_fit.time_shifts])) / SAMPLE_RATE, 3),
        }
        return tokenizer

    def save(self, path: str | os.PathLike) -> None:
        """Save as safetensors (random weights: the fitted codebooks only); reload with ``MimiConfig(weights_path=path)``."""
        random_weights = self._provenance["random_weights"]
        metadata = {_RANDOM_KEY: "true" if random_weights else "false"}
        if random_weights:
            fit_keys = ("seed", "codebook_fit", "calibration_sha256", "calibration_seconds")
            metadata[_FIT_KEY] = json.dumps({k: self._provenance[k] for k in fit_keys}, sort_keys=True)
            metadata[_FULL_SHA_KEY] = self.model_info()["weights_sha256"]
        save_weights(self.model, path, metadata, only_codebooks=random_weights)

    # ---------------------------------------------------------------- encoding

    @property
    def num_codebooks(self) -> int:
        """RVQ levels kept per frame: the width of the code arrays this tokenizer returns."""
        return self.model.num_codebooks

    def encode_batch(self, audios: Sequence[np.ndarray]) -> list[np.ndarray]:
        """24 kHz mono float32 clips -> per clip (ceil(n / 1920), num_codebooks) int16 codes."""
        outputs = self._run_batched(audios, lambda x: self.model.quantizer.encode(self._unquantized_latents(x)))
        return [out.T.to(torch.int16).numpy() for out in outputs]

    def encode_with_latents(self, audios: Sequence[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per clip (codes (frames, K) int16, unquantized latents (frames, 512) float32), one encoder pass."""

        def forward(x: torch.Tensor) -> torch.Tensor:  # latents and codes stacked on the channel axis
            latents = self._unquantized_latents(x).float()
            return torch.cat([latents, self.model.quantizer.encode(latents).float()], dim=1)  # codes < 2^24: exact

        outputs = self._run_batched(audios, forward)
        return [(out[LATENT_DIM:].T.to(torch.int16).numpy(), out[:LATENT_DIM].T.numpy()) for out in outputs]

    def latents_batch(self, audios: Sequence[np.ndarray], quantize: bool = False) -> list[np.ndarray]:
        """Clips -> per clip (frames, 512) float32 latents, before (default) or after quantization."""

        def forward(x: torch.Tensor) -> torch.Tensor:
            latents = self._unquantized_latents(x)
            return self.model.decode_latent(self.model.quantizer.encode(latents)) if quantize else latents

        outputs = self._run_batched(audios, forward)
        return [out.T.float().numpy() for out in outputs]

    def encode_to_latent(self, audio: torch.Tensor, quantize: bool = False) -> torch.Tensor:
        """(B, n) or (B, 1, n) audio tensor -> (B, 512, ceil(n / 1920)) latents, one forward pass."""
        if audio.dim() == 2:
            audio = audio[:, None]
        with torch.inference_mode(), self._autocast():
            return self.model.encode_to_latent(audio.to(self.config.device), quantize=quantize).float()

    def codes_to_latents(self, codes: torch.Tensor) -> torch.Tensor:
        """(B, K, T) codes -> (B, 512, T) latents with this tokenizer's frozen quantizer."""
        with torch.inference_mode():
            return codes_to_latents(self.model.quantizer, codes.to(self.config.device))

    def code_decoder(self) -> CodesToLatents:
        """A standalone module (the quantizer only) for the SALAD model to turn codes into latents."""
        return CodesToLatents(self.model.quantizer)

    def _run_batched(self, audios: Sequence[np.ndarray], forward: Callable[[torch.Tensor], torch.Tensor]) -> list[torch.Tensor]:
        """Apply ``forward`` ((B, 1, L) -> (B, C, T)) in length-sorted padded batches; (C, frames) per clip."""
        lengths = [len(a) for a in audios]
        for i, audio in enumerate(audios):
            if np.ndim(audio) != 1:
                raise ValueError(f"clip {i}: expected mono audio of shape (n,), got {np.shape(audio)}")
        outputs: list[torch.Tensor | None] = [None] * len(audios)
        max_samples = int(self.config.max_batch_seconds * SAMPLE_RATE)
        for indices in plan_batches(lengths, self.config.batch_items, max_samples):
            batch = torch.from_numpy(pad_batch([audios[i] for i in indices]))[:, None].to(self.config.device)
            with torch.inference_mode(), self._autocast():
                result = forward(batch).cpu()
            for row, i in enumerate(indices):
                outputs[i] = result[row, :, : frames_for_samples(lengths[i])]
        return outputs  # type: ignore[return-value]

    def _unquantized_latents(self, batch: torch.Tensor) -> torch.Tensor:
        """(B, 1, L) whole frames -> (B, 512, L / 1920): MimiModel's non-streaming encoder path, except
        that the convolutional SEANet runs in time chunks of ``config.chunk`` frames with its streaming
        state (exact for causal convolutions). Only the convolutions are chunked: their activations
        (24 kHz x 64 channels) are what leaves the cache, while the transformer, at 25 Hz, runs over
        the whole clip, as moshi's streaming attention cache would mis-attend in chunks that wrap its
        ring buffer (measured: 2-3% of codes differed past frame ~96 when everything was chunked)."""
        chunk = self.config.chunk
        step = (chunk or 0) * SAMPLES_PER_FRAME
        encoder = self.model.encoder
        if chunk is None or batch.shape[-1] <= step:
            embedding = encoder(batch)
        else:
            with encoder.streaming(batch.shape[0]):
                embedding = torch.cat([encoder(batch[..., i : i + step]) for i in range(0, batch.shape[-1], step)], dim=-1)
        if self.model.encoder_transformer is not None:
            (embedding,) = self.model.encoder_transformer(embedding)
        return self.model._to_framerate(embedding)  # moshi 0.2.x: the 25 -> 12.5 Hz downsampling

    def _autocast(self):
        if self.config.dtype == "float32":
            return nullcontext()
        return torch.autocast(device_type=torch.device(self.config.device).type, dtype=torch.bfloat16)

    # ---------------------------------------------------------------- lineage

    def model_info(self) -> dict:
        """What the artifact manifest records about the tokenizer (weights identity included)."""
        if self._sha256 is None:
            self._sha256 = weights_sha256(self.model)
        return {
            "model": "mimi",
            "moshi_version": version("moshi"),
            **self._provenance,
            "weights_sha256": self._sha256,
            "num_codebooks": self.num_codebooks,
            "codebook_size": self.model.cardinality,
            "sample_rate": SAMPLE_RATE,
            "frame_rate": FRAME_RATE,
            "latent_dim": LATENT_DIM,
            "device": self.config.device,
            "dtype": self.config.dtype,
        }


def _audio_sha256(audios: Sequence[np.ndarray]) -> str:
    digest = hashlib.sha256()
    for audio in audios:
        digest.update(np.ascontiguousarray(audio, dtype=np.float32).data)
    return digest.hexdigest()
