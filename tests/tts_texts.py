"""Small text artifacts for the synthesis and quality-gate tests: real sentences from the bundled corpus.

rows = short_texts(12)                                   # [{"id", "text", "cluster"}, ...]
ref = text_artifact(store, rows)                         # a committed `texts` artifact
"""

from __future__ import annotations

import hashlib
import json
import re

import pyarrow as pa

from salad_core.corpus.bundled import INVALID_TOPIC, generate_bundled_corpus, topic_of_url
from storage import ArtifactRef, ArtifactStore, StageSpec
from tasks.sharded_stage import write_table_artifact

TEXT_SCHEMA = pa.schema([("id", pa.string()), ("text", pa.string()), ("cluster", pa.string())])
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def short_texts(n: int, sentences: int = 2) -> list[dict]:
    """The first `sentences` sentences of `n` valid bundled documents, clustered by topic (~10 s of speech each)."""
    rows = []
    for doc in generate_bundled_corpus(n * 2).to_pylist():
        if topic_of_url(doc["url"]) == INVALID_TOPIC:  # the corpus' deliberately broken rows
            continue
        text = " ".join(_SENTENCE_END.split(doc["text"].strip())[:sentences])
        if text:
            rows.append({"id": doc["id"], "text": text, "cluster": topic_of_url(doc["url"])})
        if len(rows) == n:
            return rows
    raise ValueError(f"the bundled corpus gave fewer than {n} texts")


def text_artifact(store: ArtifactStore, rows: list[dict], name: str = "texts") -> ArtifactRef:
    """Rows as a one-shard artifact; the same rows give the same fingerprint in any store."""
    digest = hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()[:16]
    spec = StageSpec(name=name, params={"rows_sha256": digest}, code_version="test-texts-1")
    return write_table_artifact(store, spec, pa.Table.from_pylist(rows, schema=TEXT_SCHEMA))
