"""Prefect task: corpus → sentence embeddings, one output shard per corpus shard.

    from tasks.embed import embed_corpus
    out = embed_corpus(corpus_ref, EmbedConfig(), store_config)   # out.embeddings: ArtifactRef
    out = embed_corpus(corpus_ref, EmbedConfig(ray=RayStageConfig(n_actors=2)), store_config)  # same artifact, on Ray

Shard *i* of ``embeddings`` holds the vectors of shard *i* of the corpus, row for row, so a
crashed run resumes at the first uncommitted shard and later stages can join by position. The
model enters the fingerprint through its weights hash (computed from the files, before any
loading), so a different checkpoint is a different version. With ``ray.n_actors > 0`` the shards
run on Ray actors, one model each, that write them to the store themselves (tasks/ray_stage.py).
"""

from __future__ import annotations

from functools import partial

import pyarrow as pa
from prefect import task
from pydantic import BaseModel

from salad_core.embedding.arrow import embedding_type, vectors_to_arrow
from salad_core.embedding.config import EmbedConfig
from salad_core.embedding.embedder import Embedder
from salad_core.embedding.model_source import resolve_model, weights_sha256
from storage import ArtifactRef, ArtifactStore, StageSpec, StoreConfig
from tasks.ray_stage import EXECUTION_MODULES, run_stage
from tasks.sharded_stage import ShardedStage, stage_version

EMBEDDINGS = "embeddings"
EMBED_CODE_VERSION = stage_version("embed-2", __name__, exclude=EXECUTION_MODULES)
# runtime knobs that do not change the vectors' meaning stay out of the fingerprint
RUNTIME_FIELDS = {"device", "batch_size", "hf_cache_dir", "ray"}
TEXTS_PER_CALL = 512  # documents handed to the embedder at once (it batches inside)


class EmbedOutputs(BaseModel):
    embeddings: ArtifactRef
    reused: bool


def embed_spec(corpus: ArtifactRef, config: EmbedConfig) -> StageSpec:
    """The `embeddings` spec of `corpus`: the config without runtime knobs, and the model named by the
    SHA-256 of its weight files (resolved locally, never downloaded nor loaded)."""
    source = resolve_model(config.model, config.revision, config.hf_cache_dir)
    model_id = f"{config.model}@{source.revision or 'local'}#sha256:{weights_sha256(source.path)[:16]}"
    return StageSpec(
        name=EMBEDDINGS,
        params=config.model_dump(mode="json", exclude=RUNTIME_FIELDS),
        code_version=EMBED_CODE_VERSION,
        parents=[corpus],
        models={"embedder": model_id},
    )


class EmbedStage(ShardedStage):
    """Shard i of the embeddings from shard i of the corpus; the model loads on the first shard with work."""

    def __init__(self, store: ArtifactStore, spec: StageSpec, corpus: ArtifactRef, config: EmbedConfig):
        self.source = store.get(corpus)
        super().__init__(store, spec, len(self.source.manifest.shards))
        self.config = config
        self.embedder: Embedder | None = None

    def num_shards(self) -> int:
        """One embeddings shard per corpus shard."""
        return len(self.source.manifest.shards)

    def load_model(self) -> None:
        """Load the embedder on first need; later calls keep it (a fully committed run never loads it)."""
        if self.embedder is None:
            self.embedder = Embedder(self.config)

    def process_shard(self, shard: int) -> tuple[pa.Table, None]:
        """`id, embedding` of corpus shard `shard`, row for row; an empty shard gives no rows, same schema."""
        self.load_model()
        rows = self.source.read_shard(shard, columns=["id", "text"])
        ids, texts = rows.column("id").to_pylist(), rows.column("text").to_pylist()
        parts = [self.embedder.embed(texts[i : i + TEXTS_PER_CALL], ids[i : i + TEXTS_PER_CALL]) for i in range(0, len(texts), TEXTS_PER_CALL)]
        if not parts:  # an empty corpus shard: the same schema, no rows
            dim = int(self.embedder.model_info()["dim"])
            return pa.table({"id": pa.array([], pa.string()), "embedding": pa.array([], embedding_type(dim))}), None
        return pa.table({"id": pa.array(ids, pa.string()), "embedding": pa.concat_arrays([vectors_to_arrow(p) for p in parts])}), None

    def stats(self) -> dict:
        """The model's info and dimension and the long-document policy, for the manifest (no info if no shard loaded the model)."""
        info = self.embedder.model_info() if self.embedder else {}
        return {"model_info": info, "dim": info.get("dim"), "long_documents": self.config.long_documents}


@task(name="embed-corpus")
def embed_corpus(corpus: ArtifactRef, config: EmbedConfig, store_config: StoreConfig) -> EmbedOutputs:
    """The `embeddings` version of `corpus` (reused or resumed when committed), in this process or on
    Ray actors as `config.ray` says."""
    store = ArtifactStore.open(store_config)
    spec = embed_spec(corpus, config)
    build = partial(EmbedStage, spec=spec, corpus=corpus, config=config)  # each Ray actor's own stage and model
    result = run_stage(build(store), config.ray, build)
    return EmbedOutputs(embeddings=result.ref, reused=result.reused)
