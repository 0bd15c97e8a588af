"""Mimi's fixed geometry and the settings of our frozen tokenizer.

Usage:
    from salad_core.mimi.config import MimiConfig, SAMPLES_PER_FRAME
    cfg = MimiConfig()                                    # real weights if cached, else seeded random
    cfg = MimiConfig(weights="real")                      # fail unless the real checkpoint is found
    cfg = MimiConfig(weights_path="mimi-random-seed0.safetensors")   # a file saved earlier
    cfg = MimiConfig(device="cuda", dtype="bfloat16", max_batch_items=64)    # batching pays on GPU

``weights``: "auto" uses the real checkpoint when ``weights_path`` is given or the Hugging Face
cache already holds it (never downloads), otherwise seeded random weights whose codebooks are
fitted on calibration audio; "real" refuses the fallback; "random" ignores the cache.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SAMPLE_RATE = 24_000
FRAME_RATE = 12.5
SAMPLES_PER_FRAME = 1_920  # SAMPLE_RATE / FRAME_RATE
LATENT_DIM = 512
CODEBOOK_SIZE = 2_048
TOTAL_CODEBOOKS = 32

HF_REPO = "kyutai/moshiko-pytorch-bf16"
HF_FILENAME = "tokenizer-e351c8d8-checkpoint125.safetensors"


def frames_for_samples(n_samples: int) -> int:
    """Mimi pads the input to whole frames, so a partial last frame still yields a code."""
    return math.ceil(n_samples / SAMPLES_PER_FRAME)


class CodebookFitConfig(BaseModel):
    """How random-weight codebooks are fitted to calibration speech (see codebook_fit.py)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_seconds: float = Field(20.0, gt=0)  # calibration audio used, summed over clips
    time_shifts: int = Field(2, ge=1)  # sub-frame offsets per clip: more distinct frames per second
    kmeans_iters: int = Field(10, ge=1)
    points_per_code: int = Field(4, ge=1)  # frames per k-means centroid; the other entries are random draws
    filler_scale: float = Field(0.3, gt=0)  # spread of those draws relative to the residuals' spread


class MimiConfig(BaseModel):
    """Which Mimi weights, how many codebooks, and how to batch on which device."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    weights: Literal["auto", "real", "random"] = "auto"
    weights_path: str | None = None  # a local .safetensors: the real checkpoint or one saved by save()
    hf_repo: str = HF_REPO
    hf_filename: str = HF_FILENAME
    hf_cache_dir: str | None = None  # None: huggingface_hub's default cache
    num_codebooks: int = Field(8, ge=1, le=TOTAL_CODEBOOKS)  # the paper keeps RVQ levels 0..7
    seed: int = 0  # random weights and the codebook fit
    codebook_fit: CodebookFitConfig = CodebookFitConfig()
    device: str = "cpu"
    dtype: Literal["float32", "bfloat16"] = "float32"  # bfloat16 runs the encoder under autocast
    # Clips per batch. None: 2 on CPU, 32 on an accelerator (where batching is what fills the device).
    max_batch_items: int | None = Field(None, ge=1)
    max_batch_seconds: float = Field(240.0, gt=0)  # padded audio per batch, bounds memory
    # Encode a batch in time chunks of this many frames with Mimi's streaming state (the codes of one
    # whole pass: the encoder is causal). None: 32 frames (2.56 s) on CPU, whole clips on an
    # accelerator. Why: the first encoder layers run at 24 kHz x 64 channels, so whole clips' activations
    # leave the CPU caches and the memory-bound ops (ELU, add, cat) slow down: batching whole 6 s clips
    # was 0.6-0.7x a per-file loop, while 2 clips x 32 frames is 1.17x (benchmarks/bench_mimi.py --grid,
    # 1 thread); too short a chunk pays Python overhead per layer instead.
    chunk_frames: int | None = Field(None, ge=1)

    @property
    def on_cpu(self) -> bool:
        """Whether `device` is a CPU (with or without an index): it picks the CPU defaults for batching and chunking."""
        return self.device.split(":")[0] == "cpu"

    @property
    def batch_items(self) -> int:
        """Clips per encoder batch: `max_batch_items` when set, else 2 on CPU (cache-bound) and 32 on an accelerator."""
        if self.max_batch_items is not None:
            return self.max_batch_items
        return 2 if self.on_cpu else 32

    @model_validator(mode="after")
    def _only_safetensors(self) -> "MimiConfig":
        # anything else would reach moshi's torch.load, i.e. unpickling a user-given file (code execution)
        for name in ("weights_path", "hf_filename"):
            value = getattr(self, name)
            if value is not None and not value.endswith(".safetensors"):
                raise ValueError(f"mimi.{name}={value!r}: only .safetensors weights are loaded (a pickle could run code)")
        return self

    @model_validator(mode="after")
    def _chunks_need_float32(self) -> "MimiConfig":
        if self.chunk_frames is not None and self.dtype != "float32":
            raise ValueError("chunk_frames needs dtype float32: moshi's streaming attention cache is float32 under autocast")
        return self

    @property
    def chunk(self) -> int | None:
        """Frames per streamed encoder chunk: `chunk_frames` when set, else 32 on CPU in float32 (faster there) and None (whole clips) otherwise."""
        if self.chunk_frames is not None:
            return self.chunk_frames
        return 32 if self.on_cpu and self.dtype == "float32" else None
