"""Flow: bundled corpus → speech for a sample of its texts (espeak-ng on a Ray actor pool) → quality gate.

Run it (offline, CPU, about a minute; Ray starts locally and stops afterwards):
    .venv/bin/python -m flows.tts_flow                       # 20 texts into ./salad-store
    .venv/bin/python -c "from flows.tts_flow import *; tts_flow(tts=SynthesisConfig(limit=100))"
then look at the result:
    salad artifacts show speech_gated
    salad artifacts show speech_gate_quarantine

Inside a loopback-only network namespace (as the tests run) set RAY_AUTH_MODE=disabled. Join a
running cluster instead with ``SynthesisConfig(ray=RayPoolConfig(address="auto"))``.
"""

from __future__ import annotations

from prefect import flow
from pydantic import BaseModel

from salad_core.corpus.ingest_config import IngestConfig
from storage import ArtifactStore, StoreConfig
from tasks.ingest import IngestOutputs, ingest_corpus
from tasks.publish import publish_lineage_overview
from tasks.quality_gate import GateOutputs, gate_speech
from tasks.quality_gate_config import QualityGateConfig
from tasks.tts import SynthesisOutputs, synthesize_speech
from tasks.tts_config import SynthesisConfig

DEMO_INGEST = IngestConfig(bundled_docs=200)
DEMO_SYNTHESIS = SynthesisConfig(limit=20, sample_seed=0, shard_rows=8)


class TTSFlowOutputs(BaseModel):
    ingest: IngestOutputs
    synthesis: SynthesisOutputs
    gate: GateOutputs


@flow(name="salad-tts", log_prints=True)
def tts_flow(
    ingest: IngestConfig = DEMO_INGEST,
    tts: SynthesisConfig = DEMO_SYNTHESIS,
    gate: QualityGateConfig = QualityGateConfig(),
    store: StoreConfig = StoreConfig(),
) -> TTSFlowOutputs:
    """Ingest the bundled corpus, speak a seeded sample of its texts, and gate the audio."""
    corpus = ingest_corpus(ingest, store)
    speech = synthesize_speech(corpus.corpus, tts, store)
    gated = gate_speech(speech.speech, gate, store)
    refs = [corpus.corpus, speech.speech, speech.quarantine, gated.gated, gated.quarantine]
    publish_lineage_overview(ArtifactStore.open(store), refs, "salad-tts")
    return TTSFlowOutputs(ingest=corpus, synthesis=speech, gate=gated)


if __name__ == "__main__":
    outputs = tts_flow()
    print(outputs.model_dump_json(indent=2))
