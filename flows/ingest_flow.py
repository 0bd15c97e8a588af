"""Flow: ingest web text (the bundled corpus or FineWeb-Edu Parquet) into a versioned corpus.

Run it:
    salad run ingest --preset tiny
    salad run ingest --preset tiny --set ingest.source=fineweb --set 'ingest.paths=[data/*.parquet]'
or from Python: ``ingest_flow(IngestConfig(), StoreConfig())``.
"""

from __future__ import annotations

from prefect import flow

from salad_core.corpus.ingest_config import IngestConfig
from storage import ArtifactStore, StoreConfig
from tasks.ingest import IngestOutputs, ingest_corpus
from tasks.publish import publish_lineage_overview


@flow(name="salad-ingest", log_prints=True)
def ingest_flow(ingest: IngestConfig = IngestConfig(), store: StoreConfig = StoreConfig()) -> IngestOutputs:
    """Ingest web text into the ``corpus`` artifact (broken rows into ``corpus_quarantine``)."""
    out = ingest_corpus(ingest, store)
    publish_lineage_overview(ArtifactStore.open(store), [out.corpus, out.quarantine], "salad-ingest")  # and the catalog
    return out
