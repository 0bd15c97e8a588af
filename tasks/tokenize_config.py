"""Typed configuration of the Mimi tokenization stage.

    TokenizeConfig()                                                  # real weights if cached, else fitted random
    TokenizeConfig(mimi=MimiConfig(weights="random"), calibration_seconds=8)
    TokenizeConfig(weights_artifact="mimi_weights@3f2a")             # reuse weights fitted for another input
    TokenizeConfig(ray=RayStageConfig(address="auto", n_actors=8, num_gpus_per_actor=0.5))  # shards on a Ray cluster

Fingerprinted: the weights' identity (through `models`), ``num_codebooks``, ``dtype`` and the
output name. Not fingerprinted: device, batching and the Ray settings, which decide speed, not content.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from salad_core.mimi import MimiConfig
from salad_core.ray_config import RayStageConfig


class TokenizeConfig(BaseModel):
    """Which Mimi to tokenize with, and where its random-weight calibration comes from."""

    model_config = ConfigDict(extra="forbid")

    mimi: MimiConfig = Field(default_factory=MimiConfig, description="Weights, codebooks, device and batching of Mimi.")
    output_name: str = Field(default="natural_codes", description="Artifact name of the codes (the flows name each: natural_codes, stage1_speech_codes, ...).")
    weights_name: str = Field(default="mimi_weights", description="Artifact name of fitted random weights.")
    weights_artifact: str | None = Field(
        default=None,
        description="An existing weights artifact ('mimi_weights@<fingerprint>') to use instead of fitting on this input; "
        "share one so codes of different inputs come from the same codebooks.",
    )
    calibration_seconds: float = Field(
        default=10.0, gt=0, description="Random weights: seconds of the input's first rows (in order) the codebooks are fitted on."
    )
    rows_per_call: int = Field(default=16, ge=1, description="Rows decoded and handed to encode_batch at once (memory bound).")
    latents: Literal["none", "float16", "float32"] = Field(
        default="none",
        description="Also store Mimi's continuous (pre-quantization) 512-d latents per frame, in this precision "
        "(40x the bytes of 8 int16 codes in float32); from the same encoder pass as the codes.",
    )

    ray: RayStageConfig = Field(
        default_factory=RayStageConfig,
        description="Run the shards on Ray actors (n_actors > 0) instead of in this process; not fingerprinted.",
    )

    def content_params(self) -> dict[str, Any]:
        """The parameters that decide the codes (with the weights' identity, the version's identity);
        device, batching and Ray settings only decide speed and are left out."""
        return {
            "num_codebooks": self.mimi.num_codebooks,
            "dtype": self.mimi.dtype,
            "output_name": self.output_name,
            "codes_layout": "flat int16, frame-major: reshape(n_frames, n_codebooks)",
            **({"latents": self.latents} if self.latents != "none" else {}),  # absent: older fingerprints unchanged
        }
