"""Prefect task: web text (bundled or FineWeb-Edu Parquet) → a versioned corpus artifact.

Kept rows go to ``corpus`` (FineWeb-Edu schema), broken rows to ``corpus_quarantine`` with the
reason and source file. Both are versioned together: same inputs and config ⇒ same fingerprints.
"""

from __future__ import annotations

from pathlib import Path

from prefect import task
from pydantic import BaseModel

import salad_core.corpus
from salad_core.corpus.fineweb_reader import resolve_paths
from salad_core.corpus.ingest import CorpusIngest
from salad_core.corpus.ingest_config import IngestConfig
from storage import ArtifactRef, ArtifactStore, StageSpec, StoreConfig
from storage.code_version import stage_code_version
from tasks.publish import publish_artifact
from tasks.sharded_stage import write_sharded_artifact, write_table_artifact

CORPUS = "corpus"
QUARANTINE = "corpus_quarantine"
INGEST_CODE_VERSION = stage_code_version("ingest-1", *sorted(Path(salad_core.corpus.__file__).parent.glob("*.py")))


class IngestOutputs(BaseModel):
    corpus: ArtifactRef
    quarantine: ArtifactRef
    reused: bool


def ingest_specs(config: IngestConfig) -> tuple[StageSpec, StageSpec, list]:
    files = resolve_paths(config.paths) if config.source == "fineweb" else []
    params = config.model_dump(mode="json")
    # the exact input files (with their size and etag) are part of the version: a new snapshot is a new version
    params["inputs"] = [f.as_param() for f in files]
    if config.source == "bundled":
        params.pop("paths")
    corpus = StageSpec(name=CORPUS, params=params, code_version=INGEST_CODE_VERSION)
    quarantine = StageSpec(name=QUARANTINE, params=params, code_version=INGEST_CODE_VERSION)
    return corpus, quarantine, files


@task(name="ingest-corpus")
def ingest_corpus(config: IngestConfig, store_config: StoreConfig) -> IngestOutputs:
    store = ArtifactStore.open(store_config)
    corpus_spec, quarantine_spec, files = ingest_specs(config)
    corpus, quarantine = store.find(corpus_spec), store.find(quarantine_spec)
    if corpus and quarantine:
        for ref in (corpus, quarantine):
            publish_artifact(store, ref, reused=True)
        return IngestOutputs(corpus=corpus, quarantine=quarantine, reused=True)
    run = CorpusIngest(config, files)

    def stats() -> dict:
        return {**run.stats(), "quarantine": f"{QUARANTINE}@{quarantine_spec.fingerprint}"}

    corpus, _ = write_sharded_artifact(store, corpus_spec, lambda committed: run.shards(), stats, expected_shards=expected_shards(config, files))
    if quarantine is None:
        if run.rows_read == 0:  # the corpus was committed by an earlier run: re-read to rebuild its quarantine
            for _ in run.shards():
                pass
        quarantine = write_table_artifact(store, quarantine_spec, run.quarantine_table(), stats())
    return IngestOutputs(corpus=corpus, quarantine=quarantine, reused=False)


def expected_shards(config: IngestConfig, files: list) -> int | None:
    """An upper bound for the progress bar: rows in, before filters and quarantine."""
    if config.source != "bundled":
        return None  # FineWeb: the row count is in each file's Parquet footer, if worth reading
    rows = config.bundled_docs
    if config.limit is not None:
        rows = min(rows, config.limit)
    return max(1, -(-rows // config.shard_rows))
