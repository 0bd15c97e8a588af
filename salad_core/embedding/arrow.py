"""Embeddings as an Arrow column: fixed_size_list<float32>[d], converted without copies where possible.

Usage:
    column = vectors_to_arrow(vectors)                  # pa.FixedSizeListArray, one list per row
    table = pa.table({"id": ids, "embedding": column})
    vectors = arrow_to_vectors(table["embedding"])      # (n, d) float32 numpy, also from a ChunkedArray

A fixed-size list keeps the dimension in the schema, so a reader can check it before loading.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def embedding_type(dim: int) -> pa.DataType:
    """Arrow type of an embedding column: fixed-size lists of `dim` float32."""
    return pa.list_(pa.float32(), dim)


def vectors_to_arrow(vectors: np.ndarray) -> pa.FixedSizeListArray:
    """A (n, dim) array as a fixed_size_list<float32, dim> Arrow array, row per vector; ValueError unless 2-D."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.ndim != 2:
        raise ValueError(f"expected a 2-D array, got shape {vectors.shape}")
    return pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), vectors.shape[1])


def arrow_to_vectors(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """(n, dim) float32 array from a fixed-size-list column, row order kept; TypeError for another type, ValueError for null rows."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    if not pa.types.is_fixed_size_list(column.type):
        raise TypeError(f"expected fixed_size_list<float32>, got {column.type}")
    if column.null_count:
        raise ValueError(f"embedding column has {column.null_count} null rows")
    dim = column.type.list_size
    values = column.flatten().to_numpy(zero_copy_only=False)
    return values.astype(np.float32, copy=False).reshape(len(column), dim)
