"""Stored Mimi codes -> the 512-d latents the SALAD adapter consumes, through the frozen quantizer.

Usage:
    to_latents = CodesToLatents(tokenizer.model.quantizer)      # or tokenizer.code_decoder()
    latents = to_latents(codes)          # codes (B, K, T) int (int16 from storage is fine) -> (B, 512, T)
    model.to("cuda") moves it along with the rest of the SALAD model; it has no trainable parameters.

A deep copy of the quantizer, so the SALAD model can hold it without the 80M-parameter encoder
and decoder. Decoding is a sum of codebook lookups followed by the output projections: exactly
what Mimi feeds its own decoder.
"""

from __future__ import annotations

import copy

import torch
from moshi.quantization.vq import SplitResidualVectorQuantizer

from salad_core.mimi.config import CODEBOOK_SIZE


class CodesToLatents(torch.nn.Module):
    def __init__(self, quantizer: SplitResidualVectorQuantizer):
        super().__init__()
        self.quantizer = copy.deepcopy(quantizer).eval().requires_grad_(False)

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        """(B, K, T) integer codes -> (B, 512, T) latents with the frozen quantizer copy."""
        return codes_to_latents(self.quantizer, codes)


@torch.no_grad()
def codes_to_latents(quantizer: SplitResidualVectorQuantizer, codes: torch.Tensor) -> torch.Tensor:
    """(B, K, T) integer codes -> (B, 512, T) float latents; K may be fewer levels than were encoded."""
    if codes.dim() != 3:
        raise ValueError(f"codes must be (batch, codebooks, frames), got shape {tuple(codes.shape)}")
    if codes.shape[1] > quantizer.total_codebooks:
        raise ValueError(f"{codes.shape[1]} codebooks given, Mimi has {quantizer.total_codebooks}")
    if codes.numel() and (int(codes.min()) < 0 or int(codes.max()) >= CODEBOOK_SIZE):
        # checked here because an out-of-range index crashes the CUDA kernel without a message
        raise ValueError(f"codes must lie in [0, {CODEBOOK_SIZE}), got [{int(codes.min())}, {int(codes.max())}]")
    return quantizer.decode(codes.long())
