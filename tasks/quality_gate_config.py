"""Typed configuration of the quality gate (rendered as a form in the Prefect UI).

    QualityGateConfig()                                                  # signal checks only
    QualityGateConfig(asr_model_path="models/wav2vec2-base-960h", asr_device="cuda")
    QualityGateConfig(max_cluster_failure_rate=0.2)                      # drop clusters failing > 20%

Kept apart from the task so the pipeline's configuration can import it without Prefect or torch.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from salad_core.tts.quality import QualityThresholds


class QualityGateConfig(BaseModel):
    """Thresholds of the per-row checks, the optional ASR round trip, and the cluster rule."""

    model_config = ConfigDict(extra="forbid")

    thresholds: QualityThresholds = Field(default_factory=QualityThresholds, description="Per-row bounds.")
    asr_model_path: str | None = Field(
        default=None,
        description="Local folder of a transformers CTC model (wav2vec2, HuBERT, WavLM) for the CER check; None: no ASR.",
    )
    asr_device: str = Field(default="cpu", description="Device of the ASR model (e.g. 'cuda').")
    asr_batch_size: int = Field(default=4, ge=1, description="Clips per ASR forward pass.")
    max_cluster_failure_rate: float | None = Field(
        default=None, ge=0.0, le=1.0, description="Drop every row of a cluster whose failure rate is above this (None: keep)."
    )
    quarantine_text_chars: int = Field(default=200, ge=10, description="Text kept per quarantined row.")

    def content_params(self) -> dict[str, Any]:
        """The parameters that decide the verdicts (the version's identity); ASR device and batch size do not."""
        return self.model_dump(mode="json", exclude={"asr_device", "asr_batch_size"})
