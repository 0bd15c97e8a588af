"""Prefect task: corpus + cluster assignments → a text selection (`id, text, cluster`) for synthesis.

    from tasks.text_selection import TextSelectionConfig, select_corpus_texts
    ref = select_corpus_texts(corpus, assignments, TextSelectionConfig(url_contains=["/astronomy/"], limit=24), store_config)

Synthesis never reads the whole corpus: it reads a selection, so the per-cluster quality gate
has a `cluster` column and a paper-scale preset cannot synthesise all of FineWeb-Edu by accident.
Three selections feed it in the SALAD flow: this one (the embedded default's Stage I "natural
speech": a narrow slice of the corpus, chosen by URL like LibriHeavy's audiobooks are narrow next
to the web), the probe set (`tasks/probe.py`) and the γ-weighted selection (`tasks/select.py`).

Output rows: `id` (the document id), `text` (its leading whole sentences, at most `max_words`
words — a training sample is capped anyway, and speech costs per second), `cluster`, `words`.
The `limit` rows are a seeded hash-of-id sample, stable under re-runs and shard order; a document
with no whole sentence within `max_words` is passed over for the next one (counted in the stats). The join
between `assignments` and `corpus` goes by (shard, row) and is checked id by id.
"""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
from prefect import task
from pydantic import BaseModel, ConfigDict, Field

from salad_core.selection.speakable import speakable_cut
from salad_core.tts.row_selection import row_hash
from storage import ArtifactRef, ArtifactStore, StageSpec, StoreConfig
from tasks.sharded_stage import TableStage, stage_version

TEXT_SELECTION_CODE_VERSION = stage_version("text-selection-1", __name__)
SCHEMA = pa.schema([("id", pa.string()), ("text", pa.string()), ("cluster", pa.int32()), ("words", pa.int32())])


class TextSelectionConfig(BaseModel):
    """Which corpus documents to speak: a URL slice and/or some clusters, a seeded sample of them."""

    model_config = ConfigDict(extra="forbid")

    output_name: str = Field(default="stage1_texts", description="Artifact name of the selection.")
    url_contains: list[str] = Field(default_factory=list, description="Keep documents whose url contains one of these strings (empty: every document).")
    clusters: list[int] | None = Field(default=None, description="Keep only these clusters (None: all).")
    limit: int | None = Field(default=None, ge=1, description="At most this many documents (a seeded sample); None: all.")
    seed: int = Field(default=0, description="Seed of the hash-of-id sample.")
    max_words: int = Field(default=120, ge=1, description="Speak the leading whole sentences up to this many words.")


class NothingSelected(ValueError):
    """The filters keep no document: the message names them and what the corpus has."""


def selection_spec(corpus: ArtifactRef, assignments: ArtifactRef, config: TextSelectionConfig) -> StageSpec:
    """The selection's spec: every `config` field is a parameter; parents are `corpus` and `assignments`."""
    return StageSpec(
        name=config.output_name,
        params=config.model_dump(mode="json"),
        code_version=TEXT_SELECTION_CODE_VERSION,
        parents=[corpus, assignments],
    )


def select_rows(store: ArtifactStore, corpus: ArtifactRef, assignments: ArtifactRef, config: TextSelectionConfig) -> tuple[pa.Table, dict]:
    """The selected rows and their stats: documents kept by cluster and URL, taken in seeded hash order
    up to `limit`, each cut to its leading whole sentences. `assignments` must line up row by row
    with `corpus` (checked id by id); raises NothingSelected when nothing is left."""
    corpus_art, assigned = store.get(corpus), store.get(assignments)
    wanted_clusters = set(config.clusters) if config.clusters is not None else None
    candidates: list[tuple[int, str, str, int]] = []  # (hash, id, text, cluster)
    skipped = Counter()
    for shard in range(len(assigned.manifest.shards)):
        rows = assigned.read_shard(shard, columns=["id", "cluster", "corpus_row"])
        docs = corpus_art.read_shard(shard, columns=["id", "text", "url"]).take(rows.column("corpus_row"))
        if docs.column("id").to_pylist() != rows.column("id").to_pylist():
            raise ValueError(f"{assignments} shard {shard} does not line up with {corpus} (ids differ): give the assignments made from this corpus")
        for doc_id, text, url, cluster in zip(
            docs.column("id").to_pylist(), docs.column("text").to_pylist(), docs.column("url").to_pylist(), rows.column("cluster").to_pylist()
        ):
            if wanted_clusters is not None and cluster not in wanted_clusters:
                skipped["other cluster"] += 1
            elif config.url_contains and not any(s in (url or "") for s in config.url_contains):
                skipped["url not in the slice"] += 1
            else:
                candidates.append((row_hash(doc_id, config.seed), doc_id, text, cluster))
    if not candidates:
        raise NothingSelected(f"no document of {corpus} passes url_contains={config.url_contains} clusters={config.clusters} ({dict(skipped)})")
    out = []
    for _, doc_id, text, cluster in sorted(candidates):  # hash order: a seeded sample, stable under shard order
        cut, words = speakable_cut(text, config.max_words)
        if not words:
            skipped["no whole sentence within max_words"] += 1  # the next document in hash order takes its place
            continue
        out.append({"id": doc_id, "text": cut, "cluster": cluster, "words": words})
        if config.limit is not None and len(out) >= config.limit:
            break
    if not out:
        raise NothingSelected(f"no document of {corpus} has a whole sentence within max_words={config.max_words} ({dict(skipped)})")
    table = pa.Table.from_pylist(out, schema=SCHEMA)
    stats = {
        "candidates": len(candidates),
        "selected": table.num_rows,
        "skipped": dict(skipped),
        "words": int(sum(r["words"] for r in out)),
        "per_cluster": {str(k): v for k, v in sorted(Counter(r["cluster"] for r in out).items())},
    }
    return table, stats


@task(name="select-corpus-texts")
def select_corpus_texts(corpus: ArtifactRef, assignments: ArtifactRef, config: TextSelectionConfig, store_config: StoreConfig) -> ArtifactRef:
    """The text selection version for `config` (`config.output_name`), reused when committed."""
    store = ArtifactStore.open(store_config)
    spec = selection_spec(corpus, assignments, config)
    return TableStage(store, spec, lambda: select_rows(store, corpus, assignments, config)).run().ref
