"""Errors of the embedding stage.

Usage:
    try:
        vectors = embedder.embed(texts, ids=ids)
    except EmbeddingError as error:
        quarantine(error.row_ids)      # the rows that could not be embedded

A bad vector written to the store would silently poison k-means and every later stage, so the
embedder refuses the whole batch and names the rows instead.
"""

from __future__ import annotations

from collections.abc import Sequence

_SHOWN = 10  # rows named in the message; the full list stays on the exception


class EmbeddingError(ValueError):
    """Some rows cannot be embedded (empty text) or produced an unusable vector (NaN/inf, zero norm)."""

    def __init__(self, problem: str, row_ids: Sequence[str]):
        self.problem = problem
        self.row_ids = list(row_ids)
        shown = ", ".join(self.row_ids[:_SHOWN])
        more = f" and {len(self.row_ids) - _SHOWN} more" if len(self.row_ids) > _SHOWN else ""
        super().__init__(f"{problem}: {len(self.row_ids)} row(s): {shown}{more}")


class EmbeddingModelNotFound(FileNotFoundError):
    """The configured model is neither bundled, nor a local folder, nor in the local Hugging Face cache."""
