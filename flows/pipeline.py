"""Flow: the data half of SALAD — web text, its domains, the teacher and the Stage I speech.

Run it (the embedded default, on CPU):
    salad run pipeline --preset tiny
    salad run pipeline --set 'natural_speech={kind: folder, folder: /data/clips}'

Stages: ingest → embed → cluster (D_web's domains, P_web(c)); ingest → tokenizer → teacher (the
frozen text LLM: the embedded tiny Qwen2 on CPU, or Qwen2.5 from a local path); Stage I speech:
natural speech (LibriHeavy / Emilia / a folder) → utterances → Mimi codes when `natural_speech`
is configured, otherwise a narrow URL slice of the corpus (`stage1_texts`) → synthesis (Ray) →
quality gate → Mimi codes. Each stage reuses its committed version when inputs, parameters and
code are unchanged, so re-running is cheap and a failed run resumes where it stopped. The SALAD
flow (`flows/salad_flow.py`) runs this, then the method half.
"""

from __future__ import annotations

from prefect import flow, get_run_logger
from pydantic import BaseModel

from flows.config import PipelineConfig
from flows.store_lock import store_lock
from flows.spoken import SpokenOutputs, speak
from storage import ArtifactRef, ArtifactStore
from tasks.checkpoint_store import SourceRefs
from tasks.cluster import ClusterOutputs, cluster_corpus
from tasks.embed import EmbedOutputs, embed_corpus
from tasks.ingest import IngestOutputs, ingest_corpus
from tasks.publish import publish_lineage_overview
from tasks.speech_ingest import SpeechIngestOutputs, ingest_speech
from tasks.teacher import TeacherOutputs, build_teacher, build_tokenizer
from tasks.text_selection import select_corpus_texts
from tasks.tokenize import TokenizeOutputs, tokenize_speech


class PipelineOutputs(BaseModel):
    ingest: IngestOutputs
    embed: EmbedOutputs
    cluster: ClusterOutputs
    teacher: TeacherOutputs
    stage1_texts: ArtifactRef | None = None
    synthetic: SpokenOutputs | None = None
    natural: SpeechIngestOutputs | None = None
    natural_codes: TokenizeOutputs | None = None

    def stage1_speech(self) -> SourceRefs:
        """Stage I's speech source: natural speech when configured, else the synthetic slice."""
        if self.natural_codes is not None:
            return SourceRefs(codes=self.natural_codes.codes, transcripts=self.natural.utterances)
        return self.synthetic.source()

    def mimi_weights(self) -> ArtifactRef | None:
        """The fitted Mimi weights every later tokenization shares (None with real weights)."""
        return (self.natural_codes or self.synthetic.codes).weights

    def finals(self) -> list[ArtifactRef]:
        """The run's end products (quarantines, cluster report, teacher, Stage I codes): the refs whose lineage the run publishes."""
        refs = [self.ingest.quarantine, self.cluster.report, self.teacher.teacher]
        if self.synthetic is not None:
            s = self.synthetic
            refs += [s.speech.quarantine, s.gate.quarantine, s.codes.codes, s.codes.quarantine]
        if self.natural_codes is not None:
            refs += [self.natural.quarantine, self.natural_codes.codes, self.natural_codes.quarantine]
        return refs


def data_stages(config: PipelineConfig) -> PipelineOutputs:
    """Every data stage in order (inside a flow); returns references to what was made or reused."""
    store = config.store
    ingest = ingest_corpus(config.ingest, store)
    embed = embed_corpus(ingest.corpus, config.embed, store)
    cluster = cluster_corpus(ingest.corpus, embed.embeddings, config.cluster, store)
    tokenizer = build_tokenizer(ingest.corpus, config.teacher, store)
    teacher = build_teacher(ingest.corpus, tokenizer, config.teacher, store)
    out = PipelineOutputs(ingest=ingest, embed=embed, cluster=cluster, teacher=teacher)
    if config.natural_speech is not None:
        out.natural = ingest_speech(config.natural_speech, store)
        out.natural_codes = tokenize_speech(out.natural.utterances, config.tokenize.model_copy(update={"output_name": "natural_codes"}), store)
    else:
        out.stage1_texts = select_corpus_texts(ingest.corpus, cluster.assignments, config.stage1_texts, store)
        out.synthetic = speak(out.stage1_texts, "stage1_speech", config.tts, config.gate, config.tokenize, store)
    print(
        f"teacher {teacher.teacher}: held-out perplexity {teacher.held_out_perplexity:.2f} "
        f"vs unigram {teacher.unigram_perplexity:.2f} (ratio {teacher.perplexity_ratio:.3f})"
    )
    return out


@flow(name="salad-pipeline", log_prints=True)
def pipeline_flow(config: PipelineConfig = PipelineConfig()) -> PipelineOutputs:
    """The data stages in order; returns references to the artifacts made (or reused)."""
    with store_lock(config.store, get_run_logger()):  # one run at a time per store (flows/store_lock.py)
        out = data_stages(config)
        publish_lineage_overview(ArtifactStore.open(config.store), out.finals(), "salad-pipeline")
    return out
