"""Giving a randomly initialised Mimi usable codebooks, fitted to real speech by k-means.

Usage (MimiTokenizer.load does this for ``weights="random"``):
    clips = calibration_clips(speech_arrays, fit_config)           # cropped, time-shifted copies
    latents = ...encoder latents of the clips, frames stacked: (N, 512)
    fit_codebooks(model.quantizer, latents, fit_config, seed=0)    # all 32 RVQ levels, in place

Why: moshi initialises every codebook at zero, so untrained Mimi maps every frame to code 0 and
its codes carry nothing. Mimi's real codebooks were learnt by k-means-initialised EMA on its own
latents; we do the k-means step once, level by level on the residual the level will see.

Mimi's quantizer is split: level 0 (the "semantic" RVQ) and levels 1..31 (the "acoustic" RVQ)
each project the same 512-d latent to 256-d and quantize it; inside each, a level quantizes what
the previous levels left. A few seconds of speech give hundreds of frames, not the 2,048 each
codebook holds, so k-means fits one centroid per ``points_per_code`` frames and the remaining
entries are random draws around the residuals' mean with their covariance shrunk by
``filler_scale`` (random mixtures of the centred residuals). Shrunk draws sit at the distances of
centroids, so unseen speech uses them (unshrunk draws in 256 dimensions are farther from any
frame than every centroid and go unused), and they sit no closer to calibration frames than to
unseen speech. Filling with noisy copies of calibration frames instead makes calibration
residuals vanish after a few levels; the deep codebooks are then fitted to near-zero vectors and,
on unseen speech, pick between nearly equidistant entries: codes flip with the batch size.
Everything is drawn from one seeded generator, so a seed fixes the result.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from moshi.quantization.vq import ResidualVectorQuantizer, SplitResidualVectorQuantizer

from salad_core.mimi.config import SAMPLE_RATE, SAMPLES_PER_FRAME, CodebookFitConfig
from salad_core.mimi.kmeans import kmeans


def calibration_clips(audios: Sequence[np.ndarray], config: CodebookFitConfig) -> list[np.ndarray]:
    """The clips to encode: at most ``max_seconds`` in all, each also started at sub-frame offsets.

    A copy shifted by a fraction of a frame lands on different frame boundaries, so the encoder
    sees new frames for no extra speech.
    """
    budget = int(config.max_seconds * SAMPLE_RATE)
    cropped: list[np.ndarray] = []
    for audio in audios:
        if budget <= 0:
            break
        clip = np.asarray(audio, dtype=np.float32)[:budget]
        if len(clip) > SAMPLES_PER_FRAME:
            cropped.append(clip)
            budget -= len(clip)
    if not cropped:
        raise ValueError("calibration audio is empty: fitting Mimi's codebooks needs a few seconds of speech")
    step = SAMPLES_PER_FRAME // config.time_shifts
    return [clip[shift * step :] for clip in cropped for shift in range(config.time_shifts)]


@torch.no_grad()
def fit_codebooks(quantizer: SplitResidualVectorQuantizer, latents: torch.Tensor, config: CodebookFitConfig, seed: int) -> None:
    """Fit every RVQ level of ``quantizer`` in place from encoder ``latents`` (N, 512).

    Runs on CPU whatever the quantizer's device: the seeded generator is a CPU one, and the same
    latents then give the same codebooks on any machine.
    """
    device = quantizer.rvq_first.input_proj.weight.device
    quantizer.cpu()
    generator = torch.Generator().manual_seed(seed)
    frames = torch.unique(latents.float().cpu(), dim=0)  # silence repeats frames; k-means wants distinct points
    for rvq in (quantizer.rvq_first, quantizer.rvq_rest):
        _fit_residual_levels(rvq, frames, config, generator)
    quantizer.to(device)


def _fit_residual_levels(rvq: ResidualVectorQuantizer, frames: torch.Tensor, config: CodebookFitConfig, generator: torch.Generator) -> None:
    residual = rvq.input_proj(frames.T[None])[0].T  # 1x1 conv over time == per-frame linear map
    for layer in rvq.vq.layers:
        codebook = _fit_one_codebook(residual, layer.codebook_size, config, generator)
        _set_codebook(layer._codebook, codebook)
        codes = layer.encode(residual.T[None])
        residual = residual - layer.decode(codes)[0].T


def _fit_one_codebook(residual: torch.Tensor, size: int, config: CodebookFitConfig, generator: torch.Generator) -> torch.Tensor:
    points = torch.unique(residual, dim=0)
    n_fitted = min(size, max(1, len(points) // config.points_per_code))
    centroids = kmeans(points, n_fitted, config.kmeans_iters, generator)
    mean = points.mean(dim=0)
    mixing = torch.randn(size - n_fitted, len(points), generator=generator) / len(points) ** 0.5
    filler = mean + config.filler_scale * (mixing @ (points - mean))  # covariance: filler_scale**2 x the residuals'
    return torch.cat([centroids, filler])


def _set_codebook(codebook: torch.nn.Module, vectors: torch.Tensor) -> None:
    """Write centroids into moshi's EMA buffers: embedding = embedding_sum / cluster_usage."""
    codebook.embedding_sum.copy_(vectors)
    codebook.cluster_usage.fill_(1.0)
    codebook._initialized.fill_(1.0)
    codebook.register_buffer("_embedding", None, persistent=False)  # drop moshi's cached centroids
