"""Sentence embeddings of documents: unit float32 vectors, or a clear error naming the bad rows.

Usage:
    embedder = Embedder(EmbedConfig())                       # bundled all-MiniLM-L6-v2, offline
    vectors = embedder.embed(texts, ids=ids)                 # (n, 384) float32, every row of norm 1
    embedder.model_info()                                    # model id, revision, weights hash, dim, ... for the manifest

    Embedder(EmbedConfig(model="BAAI/bge-large-en-v1.5", device="cuda"))   # the paper's model, from the HF cache

The stage feeds one batch of rows at a time; the embedder keeps nothing between calls, so memory
stays flat however large the corpus. Truncate mode is a thin call to
SentenceTransformer.encode (which already sorts a batch by length and tokenises once) followed by
one vectorised check-and-normalise, so its throughput is that of encode itself.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from salad_core.embedding.config import EmbedConfig
from salad_core.embedding.model_source import ModelSource, resolve_model, weights_sha256
from salad_core.embedding.validation import check_texts, unit_rows
from salad_core.embedding.windows import embed_windows


class Embedder:
    """One loaded model, reused for every batch of a stage (loading costs seconds; a batch, less)."""

    def __init__(self, config: EmbedConfig | None = None):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before sentence-transformers imports the hub: never download
        import torch
        from sentence_transformers import SentenceTransformer

        self.config = config or EmbedConfig()
        self.source: ModelSource = resolve_model(self.config.model, self.config.revision, self.config.hf_cache_dir)
        self.device = pick_device(self.config.device)
        self.dtype = self.config.gpu_dtype if self.device == "cuda" else "float32"
        self.model = SentenceTransformer(str(self.source.path), device=self.device, local_files_only=True)
        self.model.eval()
        if self.dtype != "float32":
            self.model.to(getattr(torch, self.dtype))
        self.max_tokens = self._checked_max_tokens()
        self.model.max_seq_length = self.max_tokens
        self.dim = int(self.model.get_embedding_dimension())
        self._weights_sha256: str | None = None

    def embed(self, texts: Sequence[str], ids: Sequence[str] | None = None) -> np.ndarray:
        """Documents → (n, d) float32 unit vectors; `ids` only name rows in errors."""
        return self._embed(texts, ids, self.config.document_prefix)

    def embed_queries(self, texts: Sequence[str], ids: Sequence[str] | None = None) -> np.ndarray:
        """Like embed, with the query prefix (for retrieval-style probes; the pipeline embeds documents)."""
        return self._embed(texts, ids, self.config.query_prefix)

    def model_info(self) -> dict:
        """What a manifest needs to say which vectors these are; the weights hash is computed once."""
        if self._weights_sha256 is None:
            self._weights_sha256 = weights_sha256(self.source.path)
        import sentence_transformers

        return {
            "model": self.config.model,
            "origin": self.source.origin,
            "revision": self.source.revision,
            "weights_sha256": self._weights_sha256,
            "dim": self.dim,
            "max_tokens": self.max_tokens,
            "long_documents": self.config.long_documents,
            "document_prefix": self.config.document_prefix,
            "dtype": self.dtype,
            "device": self.device,
            "sentence_transformers": sentence_transformers.__version__,
        }

    def _embed(self, texts: Sequence[str], ids: Sequence[str] | None, prefix: str) -> np.ndarray:
        texts = list(texts)
        if ids is not None and len(ids) != len(texts):
            raise ValueError(f"got {len(texts)} texts but {len(ids)} ids")
        check_texts(texts, ids)
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        if self.config.long_documents == "window":
            raw = embed_windows(self.model, texts, self.max_tokens, self.config.batch_size, prefix)
        else:
            raw = self.model.encode(
                texts,
                prompt=prefix or None,
                batch_size=self.config.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=False,
                show_progress_bar=False,
            )
        return unit_rows(raw, ids)

    def _checked_max_tokens(self) -> int:
        """The configured length, refused when it exceeds the model's position embeddings."""
        limit = position_limit(self.model)
        wanted = self.config.max_tokens or int(self.model.max_seq_length or limit)
        if wanted > limit:
            raise ValueError(
                f"max_tokens={wanted} exceeds the {limit} positions of {self.config.model!r}; "
                f"use max_tokens <= {limit} (CRISP's 1,024-token windows need a model with >= 1,024 positions)"
            )
        return wanted


def pick_device(device: str) -> str:
    """ "auto" resolves to cuda when torch sees a GPU else cpu; RuntimeError when cuda is asked for explicitly but unavailable,
    rather than silently using the CPU."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("embed.device='cuda' was requested but torch sees no GPU; use 'auto' or 'cpu'")
    return device


def position_limit(model) -> int:
    """Tokens the encoder can attend to; RoBERTa-style models reserve two positions for padding offsets."""
    config = model[0].auto_model.config
    limit = int(getattr(config, "max_position_embeddings", 0) or model.max_seq_length or 512)
    if "roberta" in str(getattr(config, "model_type", "")):
        limit -= 2
    return limit
