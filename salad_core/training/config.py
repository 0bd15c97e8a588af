"""Training configuration (Stage I / Stage II) and its presets.

Usage:
    from salad_core.training.config import TrainConfig
    cfg = TrainConfig.preset("tiny")                    # Stage I on CPU, minutes
    cfg = TrainConfig.preset("3b", stage=2)             # the paper's Stage II for Qwen2.5-3B
    cfg = TrainConfig.preset("tiny").model_copy(update={"steps": 20})

The paper's values (design.md, Stage I/II): AdamW wd 0.1, warmup 500 steps, constant LR, linear
decay over the last 20% (Stage I; the checkpoint taken just before the decay is kept), Stage II
decays linearly to 0 from the pre-decay checkpoint; LR adapter 1e-3 / LLM 5e-5 at 3B and 1e-4 /
5e-6 at 7B; 2048 positions per sample; ~1M tokens per optimizer step (micro-batch token budget x
gradient accumulation x data-parallel processes); alpha = 1 in both stages.
Mixture ratios are per micro-batch: each micro-batch comes from one source, drawn by a seeded RNG.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from salad_core.objective.distill import DistillConfig
from salad_core.training.launch import ClusterConfig

SourceKind = Literal["speech", "text"]


class MixtureSource(BaseModel):
    """One data source of the mixture: interleaved speech (codes + transcripts) or text replay."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Key of this source in the job's data refs, e.g. natural, synthetic, text.")
    kind: SourceKind
    weight: float = Field(gt=0, description="Relative share of micro-batches drawn from this source.")


STAGE1_MIXTURE = (
    MixtureSource(name="natural", kind="speech", weight=2.0),
    MixtureSource(name="text", kind="text", weight=1.0),
)
STAGE2_MIXTURE = (
    MixtureSource(name="natural", kind="speech", weight=1.0),
    MixtureSource(name="synthetic", kind="speech", weight=1.0),
    MixtureSource(name="text", kind="text", weight=1.0),
)


class TrainConfig(BaseModel):
    """Everything that decides what a training run computes (plus how it is run: procs, device)."""

    model_config = ConfigDict(extra="forbid")

    stage: Literal[1, 2] = 1
    adapter_preset: Literal["tiny", "3b", "7b"] = "tiny"
    mixture: tuple[MixtureSource, ...] = STAGE1_MIXTURE
    # schedule (optimizer steps)
    steps: int = Field(60, ge=1)
    warmup_steps: int = Field(6, ge=0)
    decay_fraction: float = Field(0.2, gt=0, le=1, description="Share of the steps over which the LR decays linearly to 0.")
    lr_adapter: float = Field(1e-3, gt=0)
    lr_llm: float = Field(5e-5, ge=0)
    weight_decay: float = Field(0.1, ge=0)
    betas: tuple[float, float] = (0.9, 0.95)
    eps: float = 1e-8
    grad_clip: float = Field(1.0, gt=0)
    # batches
    max_positions: int = Field(256, ge=8, description="Cap of one sample (frames + tokens + markers); 2048 in the paper.")
    micro_batch_positions: int = Field(1024, ge=8, description="Padded positions per micro-batch (rows x longest row).")
    max_rows: int = Field(64, ge=1, description="At most this many samples in one micro-batch.")
    grad_accum: int = Field(1, ge=1)
    text_words: tuple[int, int] = (10, 30)
    speech_words: tuple[int, int] = (5, 15)
    use_speech_markers: bool = True
    num_codebooks: int = Field(8, ge=1, le=32, description="Mimi RVQ levels the model reads; codes must have exactly this many.")
    # objective
    distill: DistillConfig = DistillConfig()
    # DeepSpeed
    zero_stage: Literal[0, 1, 2, 3] = 0
    precision: Literal["auto", "fp32", "bf16"] = Field("auto", description="auto: bf16 on GPU, fp32 on CPU.")
    activation_checkpointing: bool = False
    offload_optimizer: bool = False
    # runs
    seed: int = 0
    num_procs: int = Field(1, ge=1, description="Data-parallel processes per node (GPUs, or CPU processes); × nodes with a hostfile.")
    device: Literal["auto", "cpu", "cuda"] = "auto"
    cpu_threads: int | None = Field(1, ge=1, description="torch threads per process on CPU (None: torch's default).")
    cluster: ClusterConfig = Field(
        default_factory=ClusterConfig,
        description="Hostfile and rendezvous for a multi-node run (salad_core/training/launch.py); the default is this machine alone.",
    )
    # checkpoints and metrics
    save_every: int = Field(20, ge=1, description="Optimizer steps between resumable checkpoints.")
    log_every: int = Field(5, ge=1)
    eval_every: int = Field(10, ge=1, description="Steps between M / F on the held-out set.")
    held_out_fraction: float = Field(0.1, ge=0, lt=1, description="Share of speech ids (stable hash) kept out of training.")
    held_out_samples: int = Field(16, ge=1)

    @model_validator(mode="after")
    def _check(self) -> "TrainConfig":
        if self.micro_batch_positions < self.max_positions:
            raise ValueError(
                f"micro_batch_positions ({self.micro_batch_positions}) must be at least max_positions "
                f"({self.max_positions}): a micro-batch could not fit one full-length sample"
            )
        if self.warmup_steps > self.pre_decay_step:
            raise ValueError(f"warmup_steps ({self.warmup_steps}) must end before the decay starts (step {self.pre_decay_step})")
        names = [s.name for s in self.mixture]
        if not names or len(set(names)) != len(names):
            raise ValueError(f"mixture needs distinct, non-empty source names, got {names}")
        return self

    @property
    def decay_steps(self) -> int:
        """Optimizer steps of the final decay: `decay_fraction` of `steps`, at least one."""
        return max(1, round(self.decay_fraction * self.steps))

    @property
    def pre_decay_step(self) -> int:
        """Optimizer steps done when the decay starts: the Stage I checkpoint kept for Stage II."""
        return self.steps - self.decay_steps

    def content_params(self) -> dict:
        """The fields that decide the weights (fingerprinted); run-local ones (threads, which hosts) are left
        out: the world size the hosts add up to is part of the run's identity on its own."""
        return self.model_dump(mode="json", exclude={"cpu_threads", "cluster"})

    @classmethod
    def preset(cls, name: Literal["tiny", "3b", "7b"], stage: Literal[1, 2] = 1) -> "TrainConfig":
        """The config of preset `name`; `stage=2` applies that preset's Stage II overrides (steps, no warmup, whole-run decay, mixture)."""
        fields = dict(PRESETS[name])
        if stage == 2:
            fields.update(STAGE2_OVERRIDES[name])
        return cls(**fields)


_PAPER = dict(
    max_positions=2048,
    micro_batch_positions=16384,  # 8 x 2048 per process; x 8 accumulation x 8 GPUs ~ 1M tokens
    max_rows=8,
    grad_accum=8,
    num_procs=8,
    warmup_steps=500,
    zero_stage=2,
    precision="auto",
    activation_checkpointing=True,
    device="auto",
    cpu_threads=None,
    save_every=1000,
    log_every=10,
    eval_every=500,
    held_out_samples=256,
    held_out_fraction=0.001,
)

PRESETS: dict[str, dict] = {
    "tiny": dict(
        adapter_preset="tiny",
        steps=60,
        warmup_steps=6,
        max_positions=256,
        micro_batch_positions=1024,
        lr_adapter=1e-3,
        lr_llm=5e-5,
        device="cpu",
        precision="fp32",
    ),
    # 24B tokens at ~1M tokens per step
    "3b": dict(_PAPER, adapter_preset="3b", steps=24000, lr_adapter=1e-3, lr_llm=5e-5),
    "7b": dict(_PAPER, adapter_preset="7b", steps=24000, lr_adapter=1e-4, lr_llm=5e-6),
}
# Stage II: 1.9B tokens from the pre-decay checkpoint, equal thirds, LR decaying linearly to 0.
STAGE2_OVERRIDES: dict[str, dict] = {
    "tiny": dict(stage=2, steps=30, warmup_steps=0, decay_fraction=1.0, mixture=STAGE2_MIXTURE),
    "3b": dict(stage=2, steps=1900, warmup_steps=0, decay_fraction=1.0, mixture=STAGE2_MIXTURE),
    "7b": dict(stage=2, steps=1900, warmup_steps=0, decay_fraction=1.0, mixture=STAGE2_MIXTURE),
}
