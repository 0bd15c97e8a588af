"""Flow: the whole SALAD pipeline, as far as it is built, on one configuration.

Run it (the embedded default, on CPU):
    salad demo                     # = make demo
    salad run pipeline --preset tiny --set ingest.bundled_docs=500

Stages so far: ingest. Each stage reuses its committed version when inputs, parameters and code
are unchanged, so re-running is cheap and a failed run resumes where it stopped.
"""

from __future__ import annotations

from prefect import flow

from flows.config import PipelineConfig
from storage import ArtifactStore
from tasks.ingest import IngestOutputs, ingest_corpus
from tasks.publish import publish_lineage_overview


@flow(name="salad-pipeline", log_prints=True)
def pipeline_flow(config: PipelineConfig = PipelineConfig()) -> dict[str, IngestOutputs]:
    """Run every stage in order; returns references to the artifacts made (or reused)."""
    ingest = ingest_corpus(config.ingest, config.store)
    publish_lineage_overview(ArtifactStore.open(config.store), [ingest.corpus, ingest.quarantine], "salad-pipeline")
    return {"ingest": ingest}
