"""Document text from corpus record batches, split into training and held-out documents.

Usage:
    from salad_core.teacher.corpus_text import split_documents, partition_batch
    for text in split_documents(batches, held_out_fraction=0.05, held_out=False):
        ...                                                   # training-split texts, in corpus order
    train_texts, held_out_texts = partition_batch(batch, held_out_fraction=0.05)

``batches`` is any iterable of Arrow record batches (or tables) with ``id`` and ``text`` columns,
e.g. ``store.get(corpus).iter_batches(columns=["id", "text"])``: the corpus is streamed, never
loaded whole, so the same code reads the bundled corpus and a FineWeb-Edu sample. Empty texts
are skipped.
"""

from collections.abc import Iterable, Iterator

import pyarrow as pa

from salad_core.teacher.split import is_held_out


def partition_batch(batch: pa.RecordBatch | pa.Table, held_out_fraction: float) -> tuple[list[str], list[str]]:
    """(training texts, held-out texts) of one batch, each in corpus order."""
    train, held_out = [], []
    for doc_id, text in zip(batch.column("id").to_pylist(), batch.column("text").to_pylist()):
        if text:
            (held_out if is_held_out(doc_id, held_out_fraction) else train).append(text)
    return train, held_out


def split_documents(batches: Iterable[pa.RecordBatch | pa.Table], held_out_fraction: float, held_out: bool) -> Iterator[str]:
    """The texts of one split, streamed in corpus order."""
    for batch in batches:
        yield from partition_batch(batch, held_out_fraction)[held_out]
