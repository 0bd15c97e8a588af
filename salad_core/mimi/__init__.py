"""Frozen Mimi (Kyutai) as the pipeline's speech tokenizer: codes for storage, latents for the model.

Usage:
    from salad_core.mimi import MimiConfig, MimiTokenizer, CodesToLatents
    tok = MimiTokenizer.load(MimiConfig(), calibration_audio=[speech_24k])
    codes = tok.encode_batch(clips)          # list of (frames, 8) int16
    to_latents = tok.code_decoder()          # nn.Module: (B, K, T) codes -> (B, 512, T)
"""

from salad_core.mimi.config import (
    CODEBOOK_SIZE,
    FRAME_RATE,
    LATENT_DIM,
    SAMPLE_RATE,
    SAMPLES_PER_FRAME,
    CodebookFitConfig,
    MimiConfig,
    frames_for_samples,
)
from salad_core.mimi.latents import CodesToLatents, codes_to_latents
from salad_core.mimi.tokenizer import MimiTokenizer

__all__ = [
    "CODEBOOK_SIZE",
    "FRAME_RATE",
    "LATENT_DIM",
    "SAMPLE_RATE",
    "SAMPLES_PER_FRAME",
    "CodebookFitConfig",
    "CodesToLatents",
    "MimiConfig",
    "MimiTokenizer",
    "codes_to_latents",
    "frames_for_samples",
]
