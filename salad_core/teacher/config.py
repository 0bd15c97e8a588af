"""Typed configuration of the teacher stages (tokenizer + teacher LM), rendered as a form in the Prefect UI.

Usage:
    from salad_core.teacher.config import TeacherConfig
    cfg = TeacherConfig()                                            # the tiny embedded teacher
    cfg = TeacherConfig(source="pretrained", path="Qwen/Qwen2.5-3B")  # a local folder or HF cache entry

Two sources, one interface: "embedded" trains a byte-level BPE tokenizer and a tiny Qwen2 on the
ingested corpus (CPU minutes; nothing to download), "pretrained" points at a real checkpoint that
is already on disk. Fields that only tune how fast a run goes (device, threads, logging) stay out
of the artifact fingerprints, so moving a run to another machine reuses what exists.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Knobs of the run, not of the result: excluded from the fingerprints.
RUNTIME_FIELDS = {"device", "cpu_threads", "log_every", "eval_batch_size"}
# What the tokenizer depends on; every other field only changes the teacher.
TOKENIZER_FIELDS = {"source", "path", "vocab_size", "min_frequency", "held_out_fraction", "max_tokenizer_docs"}


class TeacherConfig(BaseModel):
    """The frozen text teacher and its tokenizer: trained here (embedded) or loaded from disk (pretrained)."""

    model_config = ConfigDict(extra="forbid")  # a typo in a key is an error, not a silently ignored setting

    source: Literal["embedded", "pretrained"] = Field(
        default="embedded",
        description="'embedded': train a BPE tokenizer and a tiny Qwen2 on the corpus; 'pretrained': load a local checkpoint.",
    )
    path: str | None = Field(
        default=None,
        description="Pretrained only: a local model folder, or a Hugging Face repo id already in the HF cache "
        "(e.g. Qwen/Qwen2.5-3B). Never downloaded (HF_HUB_OFFLINE=1).",
    )
    dtype: Literal["float32", "bfloat16", "float16"] = Field(
        default="bfloat16",
        description="Pretrained only: dtype the checkpoint is loaded in. The embedded teacher trains in float32.",
    )

    # tokenizer (embedded)
    vocab_size: int = Field(default=8192, ge=300, description="Embedded only: BPE vocabulary size, special tokens included.")
    min_frequency: int = Field(default=2, ge=1, description="Embedded only: a pair must occur this often to be merged.")
    max_tokenizer_docs: int | None = Field(default=None, ge=1, description="Train the tokenizer on at most this many training documents (None: all).")

    # tiny Qwen2 shape (embedded)
    hidden: int = Field(default=128, ge=16, description="Embedded only: model width.")
    n_layer: int = Field(default=2, ge=1, description="Embedded only: decoder layers.")
    n_head: int = Field(default=4, ge=1, description="Embedded only: attention heads.")
    n_kv_head: int = Field(default=2, ge=1, description="Embedded only: key/value heads (grouped-query attention).")
    mlp: int = Field(default=384, ge=16, description="Embedded only: MLP inner width.")
    max_positions: int = Field(default=2048, ge=16, description="Embedded only: positions the model accepts (the pipeline's context).")
    tie_word_embeddings: bool = Field(default=False, description="Embedded only: share input embeddings and the output head.")

    # pretraining (embedded)
    train_steps: int = Field(default=150, ge=0, description="Embedded only: optimizer steps; tokens = steps x batch_size x seq_len.")
    seq_len: int = Field(default=128, ge=8, description="Training and evaluation window length in tokens.")
    batch_size: int = Field(default=16, ge=1, description="Windows per optimizer step.")
    lr: float = Field(default=3e-3, gt=0, description="Embedded only: peak AdamW learning rate.")
    min_lr_ratio: float = Field(default=0.1, ge=0, le=1, description="Embedded only: final LR as a fraction of the peak (cosine decay).")
    warmup_steps: int = Field(default=20, ge=0, description="Embedded only: linear warmup steps.")
    weight_decay: float = Field(default=0.1, ge=0, description="Embedded only: AdamW weight decay on matrices (not norms).")
    grad_clip: float = Field(default=1.0, gt=0, description="Embedded only: gradient norm clip.")
    seed: int = Field(default=0, description="Seeds the initialisation and the order of training windows.")

    # data split and evaluation (both sources)
    held_out_fraction: float = Field(default=0.05, gt=0, lt=1, description="Documents held out for perplexity, chosen by a stable hash of the document id.")
    max_train_tokens: int | None = Field(
        default=None,
        ge=1,
        description="Read at most this many training-split tokens (None: the whole corpus). Set it for web-scale corpora.",
    )
    max_eval_tokens: int = Field(default=65536, ge=16, description="Held-out tokens scored for perplexity (teacher and unigram).")

    # runtime (not part of the fingerprint)
    device: str = Field(default="cpu", description="Where the teacher trains / is evaluated: cpu, cuda, cuda:1 ...")
    cpu_threads: int | None = Field(default=2, ge=1, description="torch threads on CPU (None: torch's default).")
    eval_batch_size: int = Field(default=16, ge=1, description="Windows per forward pass when scoring held-out text.")
    log_every: int = Field(default=25, ge=1, description="Log the training loss every this many steps.")

    @model_validator(mode="after")
    def _check(self) -> "TeacherConfig":
        if self.source == "pretrained" and not self.path:
            raise ValueError("teacher.source='pretrained' needs teacher.path (a local folder or a cached HF repo id)")
        if self.source == "embedded":
            if self.hidden % self.n_head:
                raise ValueError(f"teacher.hidden={self.hidden} is not divisible by teacher.n_head={self.n_head}")
            if self.n_head % self.n_kv_head:
                raise ValueError(f"teacher.n_head={self.n_head} is not a multiple of teacher.n_kv_head={self.n_kv_head}")
            if (self.hidden // self.n_head) % 2:
                raise ValueError("teacher.hidden / teacher.n_head must be even for rotary embeddings")
            if self.seq_len > self.max_positions:
                raise ValueError(f"teacher.seq_len={self.seq_len} exceeds teacher.max_positions={self.max_positions}")
        return self

    def tokenizer_params(self) -> dict[str, Any]:
        """What the tokenizer artifact's fingerprint depends on."""
        params = self.model_dump(mode="json", include=TOKENIZER_FIELDS)
        if self.source == "pretrained":  # the checkpoint's tokenizer: no training settings involved
            return {"source": "pretrained", "path": self.path}
        params.pop("path")
        return params

    def teacher_params(self) -> dict[str, Any]:
        """What the teacher artifact's fingerprint depends on (the tokenizer comes in as a parent)."""
        evaluation = {"held_out_fraction", "max_train_tokens", "max_eval_tokens", "seq_len"}
        if self.source == "pretrained":
            return self.model_dump(mode="json", include={"source", "path", "dtype"} | evaluation)
        tokenizer_only = {"path", "dtype", "vocab_size", "min_frequency", "max_tokenizer_docs"}
        return self.model_dump(mode="json", exclude=RUNTIME_FIELDS | tokenizer_only)
