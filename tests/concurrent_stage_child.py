"""Ingest + embed of the bundled corpus in its own process, for concurrent-run tests:
``python tests/concurrent_stage_child.py STORE_URI DOCS`` prints the refs and the shards this process wrote."""

import json
import sys

from salad_core.corpus.ingest_config import IngestConfig
from salad_core.embedding.config import EmbedConfig
from storage import ArtifactStore, StoreConfig
from tasks.embed import EmbedStage, embed_spec
from tasks.ingest import ingest_corpus


def main() -> None:
    uri, docs = sys.argv[1], int(sys.argv[2])
    store_config = StoreConfig(uri=uri)
    ingest = ingest_corpus.fn(IngestConfig(bundled_docs=docs, shard_rows=25), store_config)
    config = EmbedConfig(batch_size=32, max_tokens=128)
    stage = EmbedStage(ArtifactStore.open(store_config), embed_spec(ingest.corpus, config), ingest.corpus, config)
    computed = []
    process = stage.process_shard

    def counted(shard):
        computed.append(shard)
        return process(shard)

    stage.process_shard = counted
    result = stage.run()
    print(
        json.dumps(
            {
                "corpus": str(ingest.corpus),
                "quarantine": str(ingest.quarantine),
                "embeddings": str(result.ref),
                "written": result.shards_written,
                "resumed": result.shards_resumed,
                "computed": computed,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
