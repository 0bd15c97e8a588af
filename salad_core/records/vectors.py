"""Records of the embedding and clustering artifacts (built in tasks/embed.py and tasks/cluster.py)."""

from __future__ import annotations

import pyarrow as pa


def embedding_schema(dim: int = 0) -> pa.Schema:
    """`embeddings`: id, and one float32 vector of `dim` per document (0: any length)."""
    vector = pa.list_(pa.float32(), dim) if dim > 0 else pa.list_(pa.float32())
    return pa.schema([pa.field("id", pa.string()), pa.field("embedding", vector)])


# `assignments`: sorted by cluster inside each corpus shard; corpus_shard/row point back at the document
ASSIGNMENT_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string()),
        pa.field("cluster", pa.int32()),
        pa.field("distance", pa.float32()),
        pa.field("corpus_shard", pa.int32()),
        pa.field("corpus_row", pa.int32()),
    ]
)
