"""Input and output checks of the embedder, usable on their own.

Usage:
    check_texts(texts, ids)              # raises EmbeddingError on empty / whitespace-only / non-str rows
    unit = unit_rows(vectors, ids)       # float32, every row L2-normalised; raises on NaN/inf/zero rows

Both name the offending rows by id (or by position when no ids are given), because the caller's
remedy is row-level: quarantine those rows and embed the rest.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from salad_core.embedding.errors import EmbeddingError

MIN_NORM = 1e-12


def check_texts(texts: Sequence[object], ids: Sequence[str] | None = None) -> None:
    """EmbeddingError naming the offending rows when any text is not a non-empty, non-blank string; `ids` (in text order) name rows, else positions."""
    bad = [i for i, text in enumerate(texts) if not isinstance(text, str) or not text or text.isspace()]
    if bad:
        raise EmbeddingError("empty or non-text input cannot be embedded", row_names(bad, ids))


def unit_rows(vectors: np.ndarray, ids: Sequence[str] | None = None) -> np.ndarray:
    """Validates and L2-normalises in one pass over the norms (cheap next to the model)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2:
        raise ValueError(f"expected a 2-D array of embeddings, got shape {vectors.shape}")
    norms = np.linalg.norm(vectors, axis=1)
    bad = np.flatnonzero(~np.isfinite(norms) | (norms < MIN_NORM))
    if bad.size:
        raise EmbeddingError("embedding is NaN/inf or has zero norm", row_names(bad.tolist(), ids))
    return vectors / norms[:, None]


def row_names(positions: Sequence[int], ids: Sequence[str] | None) -> list[str]:
    """Names for rows at `positions`: their ids when given (aligned with the texts), else "#<position>"."""
    if ids is None:
        return [f"#{i}" for i in positions]
    return [str(ids[i]) for i in positions]
