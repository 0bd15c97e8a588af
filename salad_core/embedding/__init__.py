"""Sentence embeddings of web documents (Stage II step 1 of SALAD: embed D_web before k-means).

Usage:
    from salad_core.embedding import EmbedConfig, Embedder
    embedder = Embedder(EmbedConfig())                    # bundled all-MiniLM-L6-v2 on CPU
    vectors = embedder.embed(batch["text"].to_pylist(), ids=batch["id"].to_pylist())
    column = vectors_to_arrow(vectors)                    # for the Parquet shard
    manifest_model = embedder.model_info()

Importing this package is cheap: torch and sentence-transformers load when an Embedder is built.
"""

from salad_core.embedding.arrow import arrow_to_vectors, embedding_type, vectors_to_arrow
from salad_core.embedding.config import DEFAULT_MODEL, PAPER_MODEL, EmbedConfig
from salad_core.embedding.embedder import Embedder
from salad_core.embedding.errors import EmbeddingError, EmbeddingModelNotFound
from salad_core.embedding.model_source import ModelSource, resolve_model, weights_sha256
from salad_core.embedding.validation import check_texts, unit_rows

__all__ = [
    "DEFAULT_MODEL",
    "PAPER_MODEL",
    "EmbedConfig",
    "Embedder",
    "EmbeddingError",
    "EmbeddingModelNotFound",
    "ModelSource",
    "arrow_to_vectors",
    "check_texts",
    "embedding_type",
    "resolve_model",
    "unit_rows",
    "vectors_to_arrow",
    "weights_sha256",
]
