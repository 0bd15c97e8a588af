"""Typed configuration of the evaluation stages (items, scoring), rendered as forms in the Prefect UI.

Usage:
    from salad_core.evaluation.config import BenchmarkConfig, EvalConfig
    arc = BenchmarkConfig(name="arc_challenge", paths=["s3://bench/arc/ARC-Challenge-Test.jsonl"])
    bundled = BenchmarkConfig(name="bundled_mc")                 # the embedded default, no files
    cfg = EvalConfig(n_shots=5, max_positions=2048)

YAML (under the pipeline's `eval:` section):
    eval:
      benchmarks:
        - {name: bundled_mc, n_items: 280, seed: 0}
        - {name: arc_challenge, paths: [/data/arc/ARC-Challenge/test-*.parquet]}
        - {name: piqa, paths: [/data/piqa/valid.jsonl], labels_path: /data/piqa/valid-labels.lst}
      scoring: {n_shots: 5, max_positions: 2048, batch_size: 16, seed: 1234, device: cpu}
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from salad_core.ray_config import RayStageConfig

BenchmarkName = Literal["arc_challenge", "openbookqa", "hellaswag", "piqa", "storycloze", "mmsu", "voicebench_openbookqa", "bundled_mc"]
# The published file layouts each loader understands ("auto": told apart by the first row's keys).
SourceFormat = Literal[
    "auto",
    "arc_hf",
    "arc_original",
    "hellaswag",
    "piqa_hf",
    "piqa_original",
    "storycloze_hf",
    "storycloze_csv",
    "voicebench",
    "bundled",
]
FILE_BENCHMARKS = {"arc_challenge", "openbookqa", "hellaswag", "piqa", "storycloze", "mmsu", "voicebench_openbookqa"}


class BenchmarkConfig(BaseModel):
    """One benchmark's native files (local or s3://), or the bundled set generated in code."""

    model_config = ConfigDict(extra="forbid")

    name: BenchmarkName = Field(description="Which benchmark; fixes the prompt template (lm-evaluation-harness's).")
    paths: list[str] = Field(default_factory=list, description="Files or globs: .jsonl/.json/.parquet/.csv, local or s3://.")
    format: SourceFormat = Field(default="auto", description="File layout; 'auto' detects it from the columns.")
    labels_path: str | None = Field(default=None, description="PIQA original release only: the labels .lst file aligned line by line with paths.")
    topic: str | None = Field(default=None, description="Topic given to every item (e.g. a VoiceBench mmsu split); None: from the file name or row.")
    limit: int | None = Field(default=None, ge=1, description="Keep at most this many valid items (first in file order).")
    n_items: int = Field(default=280, ge=14, description="bundled_mc only: items, spread evenly over the 14 topics.")
    n_options: int = Field(default=4, ge=2, le=8, description="bundled_mc only: options per item.")
    seed: int = Field(default=0, description="bundled_mc only: generator seed (held out from the corpus by construction).")

    @model_validator(mode="after")
    def _check(self) -> BenchmarkConfig:
        if self.name in FILE_BENCHMARKS and not self.paths:
            raise ValueError(f"benchmark {self.name!r} reads its published files: give paths")
        if self.name == "bundled_mc" and self.paths:
            raise ValueError("bundled_mc is generated in code: it takes no paths")
        if self.labels_path and self.name != "piqa":
            raise ValueError("labels_path is only for PIQA's original release (valid.jsonl + valid-labels.lst)")
        return self

    def item_params(self) -> dict:
        """What the items artifact depends on besides the input files' identity."""
        return self.model_dump(mode="json")


class EvalConfig(BaseModel):
    """How items are scored: few-shot packing, batching, speech layout."""

    model_config = ConfigDict(extra="forbid")

    n_shots: int = Field(default=5, ge=0, le=5, description="Few-shot examples at most (as many as fit the context).")
    max_positions: int = Field(default=2048, ge=32, description="Context budget: shots + item + the longest option.")
    seed: int = Field(default=1234, description="Seeds each item's shot choice (with the item id).")
    batch_size: int = Field(default=16, ge=1, description="Option sequences per forward pass.")
    speech_markers: bool | None = Field(
        default=None,
        description="Wrap the spoken question in <|speech_start|>/<|speech_end|>; None: as the checkpoint was trained (its use_speech_markers).",
    )
    views: list[Literal["teacher_text", "student_text", "student_speech"]] = Field(
        default_factory=lambda: ["teacher_text", "student_text", "student_speech"], description="Which views to score."
    )
    limit_per_benchmark: int | None = Field(default=None, ge=1, description="Score at most this many items per benchmark.")
    device: str = Field(default="cpu", description="cpu, cuda, cuda:1 ... (not part of the fingerprint).")
    cpu_threads: int | None = Field(default=2, ge=1, description="torch threads on CPU (not part of the fingerprint).")
    items_per_shard: int = Field(
        default=256,
        ge=1,
        description="Items per shard of the scores: the unit a Ray actor scores (in the scores' fingerprint only: a resumed version keeps its layout).",
    )
    ray: RayStageConfig = Field(
        default_factory=RayStageConfig,
        description="Score the shards on Ray actors (one model each; n_actors 0: in this process). Not part of the fingerprint.",
    )

    def result_params(self) -> dict:
        """Fingerprint parameters: everything but where it runs and how the work is cut."""
        return self.model_dump(mode="json", exclude={"device", "cpu_threads", "batch_size", "items_per_shard", "ray"})
