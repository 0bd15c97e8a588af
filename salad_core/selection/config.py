"""Typed configuration of active selection (Stage II): the probe set and the gamma-weighted sampler.

Usage:
    ProbeConfig()                                         # 32 texts per cluster, 8-60 words each
    SelectionConfig(gamma=5, budget=Budget(kind="hours", amount=1416.0))
    SelectionConfig(gamma=0, budget=Budget(kind="rows", amount=500))   # the uniform (P_web) baseline

YAML (under `probe:` and `selection:` in a preset):
    probe: {n_per_cluster: 32, seed: 0, max_words: 60, min_words: 8}
    selection:
      gamma: 5.0
      budget: {kind: hours, amount: 1416.0}
      words_per_second: null          # null: measured on the probe's synthetic speech
      tokens_per_word: 1.3
      max_words: 400
      max_cluster_failure_rate: 0.2
      unscored_clusters: exclude
      allow_short_corpus: false
      seed: 0
    misalignment: {n_boot: 1000, confidence: 0.95, seed: 0, batch_size: 16, device: cpu, chunk_size: 256}
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from salad_core.ray_config import RayStageConfig


class ProbeConfig(BaseModel):
    """A few speakable texts per cluster: what M(c) is measured on (design.md, Stage II step 2)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    n_per_cluster: int = Field(default=32, ge=1, description="Probe texts per cluster (choice: 32); fewer when a cluster is smaller.")
    seed: int = Field(default=0, ge=0, description="Seeds the hash of id that orders each cluster's documents.")
    max_words: int = Field(default=60, ge=1, description="Whole sentences are kept up to this many words (about 20 s of speech).")
    min_words: int = Field(default=8, ge=1, description="A cut shorter than this has too few text-next positions to score: the next document is taken.")


class Budget(BaseModel):
    """How much speech to pay for: hours of audio (estimated from words), text tokens, or rows."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["hours", "tokens", "rows"] = "hours"
    amount: float = Field(gt=0, description="In the kind's unit; 0 or less is refused (nothing to select).")


class SelectionConfig(BaseModel):
    """P_target(c) ∝ P_web(c) · M(c)^gamma, sampled to a budget (design.md, Stage II steps 4-5)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    gamma: float = Field(default=5.0, ge=0.0, description="Sharpness; 0 reproduces P_web exactly (the uniform baseline).")
    budget: Budget = Field(default_factory=lambda: Budget(kind="hours", amount=1.0))
    words_per_second: float | None = Field(
        default=None, gt=0, description="Speaking rate for the hours budget; None: sum of words / sum of duration_s of the probe speech."
    )
    tokens_per_word: float = Field(default=1.3, gt=0, description="Tokens budget when the corpus has no token_count column: words × this.")
    max_words: int | None = Field(
        default=400, ge=1, description="Selected texts are cut to whole sentences up to this many words (the TTS refuses long texts); None: whole documents."
    )
    max_cluster_failure_rate: float | None = Field(
        default=None, ge=0.0, le=1.0, description="Clusters whose probe failed the quality gate above this rate are excluded (reported)."
    )
    unscored_clusters: Literal["exclude", "error"] = Field(
        default="exclude", description="A cluster with documents but no M(c) (no probe sample survived): excluded and reported, or an error."
    )
    allow_short_corpus: bool = Field(
        default=False, description="When the eligible corpus is smaller than the budget: take all of it (reported) instead of an error."
    )
    seed: int = Field(default=0, ge=0, description="Seeds the cluster draws and the order of texts inside each cluster.")


class MisalignmentConfig(BaseModel):
    """How M(c) is scored on the probe: bootstrap, batching, device (device and batch size are machine facts)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    n_boot: int = Field(default=1000, ge=10, description="Bootstrap resamples per cluster.")
    confidence: float = Field(default=0.95, gt=0.0, lt=1.0, description="Coverage of the bootstrap interval.")
    seed: int = Field(default=0, ge=0, description="Seeds the bootstrap and each clip's interleaving (hash of id).")
    batch_size: int = Field(default=16, ge=1, description="Probe samples per forward pass (not part of the fingerprint).")
    device: str = Field(default="cpu", description="'cpu', 'cuda', 'cuda:1' (not part of the fingerprint).")
    chunk_size: int = Field(default=256, ge=1, description="Positions per chunk of logits (bounds memory on large vocabularies).")
    ray: RayStageConfig = Field(
        default_factory=RayStageConfig,
        description="Score the probe's shards on Ray actors (one student + teacher each; n_actors 0: in this process). Not part of the fingerprint.",
    )

    def content_params(self) -> dict:
        """What changes M(c): everything but where and in what batches it runs."""
        return self.model_dump(mode="json", exclude={"batch_size", "device", "chunk_size", "ray"})


class RegenerationConfig(BaseModel):
    """Selective regeneration: which clusters take this run's new draw; every other cluster keeps
    the rows (and so the committed speech and codes) of a baseline selection.

    Off by default (no cluster named, no delta): the run uses its draw as it is. Typical uses:
    after Stage I is retrained, `delta: 0.02` redraws only the clusters whose M(c) moved more than
    that; to give clusters 3 and 7 fresh texts, change `selection.seed` and set `clusters: [3, 7]`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    clusters: list[int] = Field(default_factory=list, description="Clusters that take the new draw's rows whatever their M(c).")
    delta: float | None = Field(
        default=None, ge=0.0, description="Also the clusters whose M(c) moved by more than this since the baseline's scoring (None: off)."
    )
    baseline: str | None = Field(
        default=None,
        description="The selection version (selection@<fingerprint>) whose rows the other clusters keep; None: the newest selection made by another draw.",
    )

    @property
    def enabled(self) -> bool:
        """True when a partial redraw is asked for (named clusters or a delta rule); False means redo the whole selection."""
        return bool(self.clusters) or self.delta is not None
