"""Flow: the whole SALAD pipeline, as far as it is built, on one configuration.

Run it (the embedded default, on CPU):
    salad demo                     # = make demo
    salad run pipeline --preset tiny --set ingest.bundled_docs=500

Stages so far: ingest → embed → cluster (D_web's domains); ingest → tokenizer → teacher (the frozen text LLM: the embedded tiny Qwen2 on
CPU, or Qwen2.5 from a local path); ingest → speech synthesis (Ray actor pool; espeak-ng by
default, Kokoro at paper scale) → quality gate → Mimi codes; and, when configured, natural speech
(LibriHeavy / Emilia / a folder) → utterances → Mimi codes with the same weights. Each stage reuses its committed version when inputs, parameters and code
are unchanged, so re-running is cheap and a failed run resumes where it stopped.
"""

from __future__ import annotations

from prefect import flow
from pydantic import BaseModel

from flows.config import PipelineConfig
from storage import ArtifactStore
from tasks.cluster import ClusterOutputs, cluster_corpus
from tasks.embed import EmbedOutputs, embed_corpus
from tasks.ingest import IngestOutputs, ingest_corpus
from tasks.publish import publish_lineage_overview
from tasks.quality_gate import GateOutputs, gate_speech
from tasks.speech_ingest import SpeechIngestOutputs, ingest_speech
from tasks.tokenize import TokenizeOutputs, tokenize_speech
from tasks.teacher import TeacherOutputs, build_teacher, build_tokenizer
from tasks.tts import SynthesisOutputs, synthesize_speech


class PipelineOutputs(BaseModel):
    ingest: IngestOutputs
    embed: EmbedOutputs
    cluster: ClusterOutputs
    teacher: TeacherOutputs
    speech: SynthesisOutputs
    gate: GateOutputs
    speech_codes: TokenizeOutputs
    natural: SpeechIngestOutputs | None = None
    natural_codes: TokenizeOutputs | None = None


@flow(name="salad-pipeline", log_prints=True)
def pipeline_flow(config: PipelineConfig = PipelineConfig()) -> PipelineOutputs:
    """Run every stage in order; returns references to the artifacts made (or reused)."""
    ingest = ingest_corpus(config.ingest, config.store)
    embed = embed_corpus(ingest.corpus, config.embed, config.store)
    cluster = cluster_corpus(ingest.corpus, embed.embeddings, config.cluster, config.store)
    tokenizer = build_tokenizer(ingest.corpus, config.teacher, config.store)
    teacher = build_teacher(ingest.corpus, tokenizer, config.teacher, config.store)
    speech = synthesize_speech(ingest.corpus, config.tts, config.store)
    gate = gate_speech(speech.speech, config.gate, config.store)
    # the synthetic speech is the embedded default's speech: tokenize it (fitting random Mimi
    # codebooks on it when no real weights are cached); natural speech reuses those weights
    speech_codes = tokenize_speech(
        speech.speech, config.tokenize.model_copy(update={"output_name": "speech_codes"}), config.store, keep=gate.gated
    )
    natural = natural_codes = None
    if config.speech is not None:
        natural = ingest_speech(config.speech, config.store)
        shared = {"weights_artifact": str(speech_codes.weights)} if speech_codes.weights and not config.tokenize.weights_artifact else {}
        natural_codes = tokenize_speech(natural.utterances, config.tokenize.model_copy(update=shared), config.store)
    finals = [ingest.quarantine, cluster.report, teacher.teacher, speech.quarantine, gate.quarantine, speech_codes.codes, speech_codes.quarantine]
    if natural_codes is not None:
        finals += [natural.quarantine, natural_codes.codes, natural_codes.quarantine]
    publish_lineage_overview(ArtifactStore.open(config.store), finals, "salad-pipeline")
    print(
        f"teacher {teacher.teacher}: held-out perplexity {teacher.held_out_perplexity:.2f} "
        f"vs unigram {teacher.unigram_perplexity:.2f} (ratio {teacher.perplexity_ratio:.3f})"
    )
    print(f"speech {speech.speech}: gate passed {gate.rows_passed}, failed {gate.rows_failed}")
    return PipelineOutputs(
        ingest=ingest, embed=embed, cluster=cluster, teacher=teacher, speech=speech, gate=gate,
        speech_codes=speech_codes, natural=natural, natural_codes=natural_codes,
    )
