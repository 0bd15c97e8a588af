"""Prefect task: web text (bundled or FineWeb-Edu Parquet) → a versioned corpus artifact.

Kept rows go to ``corpus`` (FineWeb-Edu schema), broken rows to ``corpus_quarantine`` with the
reason and source file. Both are versioned together: same inputs and config ⇒ same fingerprints.
"""

from __future__ import annotations


from prefect import task
from pydantic import BaseModel

from salad_core.corpus.fineweb_reader import resolve_paths
from salad_core.corpus.ingest import QUARANTINE_SCHEMA, CorpusIngest
from salad_core.corpus.ingest_config import IngestConfig
from salad_core.corpus.text_checks import MOJIBAKE_DETECTOR
from storage import ArtifactRef, ArtifactStore, StageSpec, StoreConfig
from tasks.sharded_stage import ShardResult, ShardedStage, stage_version

CORPUS = "corpus"
QUARANTINE = "corpus_quarantine"
INGEST_CODE_VERSION = stage_version("ingest-2", __name__)


class IngestOutputs(BaseModel):
    corpus: ArtifactRef
    quarantine: ArtifactRef
    reused: bool


def ingest_specs(config: IngestConfig) -> tuple[StageSpec, StageSpec, list]:
    """Corpus and quarantine specs of `config` and its resolved input files; the files' identities and
    the mojibake detector are part of the version."""
    files = resolve_paths(config.paths) if config.source == "fineweb" else []
    params = config.model_dump(mode="json")
    # the exact input files (with their size and etag) are part of the version: a new snapshot is a new version
    params["inputs"] = [f.as_param() for f in files]
    if config.source == "bundled":
        params.pop("paths")
    models = {"mojibake_detector": MOJIBAKE_DETECTOR}  # an ftfy upgrade may judge rows differently: a new version
    corpus = StageSpec(name=CORPUS, params=params, code_version=INGEST_CODE_VERSION, models=models)
    quarantine = StageSpec(name=QUARANTINE, params=params, code_version=INGEST_CODE_VERSION, models=models)
    return corpus, quarantine, files


class IngestStage(ShardedStage):
    """Streams the source into fixed-size shards; its quarantine is known only at the end (one shard)."""

    quarantine_schema = QUARANTINE_SCHEMA

    def __init__(self, store: ArtifactStore, spec: StageSpec, config: IngestConfig, files: list):
        super().__init__(store, spec, expected_shards(config, files))
        self.run_ = CorpusIngest(config, files)

    def produce(self, committed: set[int]):
        """Every shard of the stream in order: every row is read, only shards not in `committed` are written."""
        # every row is read (shard boundaries come from the stream), only uncommitted shards are written
        for shard, table in self.run_.shards():
            yield ShardResult(shard, None if shard in committed else table)

    def final_quarantine(self):
        """Every row set aside, known once the stream has been read: the quarantine's single shard."""
        return self.run_.quarantine_table()

    def stats(self) -> dict:
        """The ingest counts for the manifest (read, kept, quarantined, filtered, repaired, rows per file)."""
        return self.run_.stats()


@task(name="ingest-corpus")
def ingest_corpus(config: IngestConfig, store_config: StoreConfig) -> IngestOutputs:
    """The `corpus` and `corpus_quarantine` versions of `config`: reused when committed, resumed otherwise."""
    store = ArtifactStore.open(store_config)
    corpus_spec, _, files = ingest_specs(config)
    result = IngestStage(store, corpus_spec, config, files).run()
    return IngestOutputs(corpus=result.ref, quarantine=result.quarantine, reused=result.reused)


def expected_shards(config: IngestConfig, files: list) -> int | None:
    """An upper bound for the progress bar: rows in, before filters and quarantine."""
    if config.source != "bundled":
        return None  # FineWeb: the row count is in each file's Parquet footer, if worth reading
    rows = config.bundled_docs
    if config.limit is not None:
        rows = min(rows, config.limit)
    return max(1, -(-rows // config.shard_rows))
