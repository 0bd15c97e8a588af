"""Typed configuration of the synthesis stage (rendered as a form in the Prefect UI).

    SynthesisConfig()                                           # espeak-ng, 2 local actors
    SynthesisConfig(limit=20, ray=RayPoolConfig(n_actors=1))    # a demo-sized sample
    SynthesisConfig(tts=TTSConfig(backend="kokoro", device="cuda"),
                    ray=RayPoolConfig(address="auto", n_actors=8, num_cpus_per_actor=1, num_gpus_per_actor=0.25))

Everything except `ray` decides the content and is part of the fingerprint; `ray` only decides
where and how fast it runs, so a run killed on 2 actors resumes on 8 into the same version.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from salad_core.tts.config import TTSConfig
from tasks.ray_pool import RayPoolConfig


class SynthesisConfig(BaseModel):
    """Which rows of a text artifact to speak, with which TTS, on which Ray pool."""

    model_config = ConfigDict(extra="forbid")

    tts: TTSConfig = Field(default_factory=TTSConfig, description="Backend (espeak-ng default, Kokoro), voices, seed.")
    ray: RayPoolConfig = Field(default_factory=RayPoolConfig, description="Ray cluster and actor pool (not fingerprinted).")
    output_name: str = Field(default="synthetic_speech", description="Artifact name of the audio; failures go to '<name>_quarantine'.")
    limit: int | None = Field(default=None, ge=1, description="Speak at most this many rows (None: all).")
    sample_seed: int | None = Field(
        default=None,
        description="With `limit`: pick the rows by a seeded hash of their id (a uniform sample) instead of the first ones.",
    )
    shard_rows: int = Field(default=64, ge=1, description="Rows per output shard: the unit of resume after a crash.")
    shard_by_cluster: bool = Field(
        default=True,
        description="When the input has a 'cluster' column: group rows by cluster so no shard mixes clusters "
        "(regenerating one cluster then rewrites only its shards; the others are copied).",
    )
    retries_per_row: int = Field(default=1, ge=0, description="Extra attempts for a row whose synthesis raised.")
    keep_columns: list[str] = Field(
        default_factory=lambda: ["cluster"],
        description="Input columns copied to the output when present (e.g. 'cluster' for per-cluster quality rates).",
    )
    quarantine_text_chars: int = Field(default=200, ge=10, description="Text kept per quarantined row.")
    max_crashed_rows: int = Field(default=5, ge=0, description="Stop the stage after this many rows killed their worker process (the pool is broken).")

    @model_validator(mode="after")
    def _sample_needs_limit(self) -> "SynthesisConfig":
        if self.sample_seed is not None and self.limit is None:
            raise ValueError("sample_seed picks `limit` rows; set limit as well")
        return self

    def content_params(self) -> dict[str, Any]:
        """What goes into the fingerprint: everything but execution settings."""
        return self.model_dump(mode="json", exclude={"ray", "retries_per_row", "max_crashed_rows"})
