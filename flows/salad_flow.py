"""Flow: the whole SALAD method, data to evaluation table, on one configuration.

Run it (the embedded default, on CPU; `make demo` does this in a loopback-only namespace):
    salad demo
    salad run salad --preset tiny --set selection.gamma=0        # the uniform baseline
    salad run salad --set selection.seed=1 --set regenerate.clusters='[3]'   # fresh texts for cluster 3 only

What runs, each step reused when its fingerprint is committed (a failed run resumes at the step
and shard where it stopped):
    ingest → embed → cluster                         D_web and its domains (P_web(c))
    ingest → tokenizer → teacher                     the frozen text LLM Q_φ
    Stage I data → Stage I                           natural speech (or, on the embedded default,
                                                     synthetic speech of a narrow URL slice) + text replay
    probe → synthesise → gate → Mimi → M(c)          per-cluster misalignment with the pre-decay checkpoint
    γ-sample → synthesise → gate → Mimi → Stage II   speech only where the model disagrees with the teacher
    (regenerate: only chosen clusters redrawn)       the other clusters' speech and codes copied from a baseline
    evaluation                                       teacher-text / student-text / student-speech and the gap,
                                                     for Stage I pre-decay, Stage I final and Stage II
Synthesis runs on selections only (the Stage I slice, the probe, the γ-selection, the benchmark's
spoken parts), never on the whole corpus. All speech shares one Mimi tokenizer: the first
tokenization fits random codebooks when no real weights are cached, the others reuse them.
"""

from __future__ import annotations

from dataclasses import dataclass

from prefect import flow, get_run_logger
from pydantic import BaseModel

from flows.config import PipelineConfig
from flows.evaluate_flow import EvaluationOutputs, evaluate_checkpoints
from flows.pipeline import PipelineOutputs, data_stages
from flows.spoken import SpokenOutputs, speak
from flows.store_lock import store_lock
from storage import ArtifactRef, ArtifactStore
from tasks.checkpoint_store import SourceRefs
from tasks.misalignment import score_misalignment
from tasks.probe import build_probe_texts
from tasks.publish import publish_lineage_overview
from tasks.select import RegenerationOutputs, SelectionOutputs, preflight_cost, regenerate_selection, select_texts, selection_report
from tasks.train import TrainOutputs, train_stage


class SaladOutputs(BaseModel):
    data: PipelineOutputs
    stage1: TrainOutputs
    probe_texts: ArtifactRef
    probe: SpokenOutputs
    misalignment: ArtifactRef
    selection: SelectionOutputs
    regenerated: RegenerationOutputs
    selected_speech: SpokenOutputs
    stage2: TrainOutputs
    evaluation: EvaluationOutputs


@dataclass
class BeforeSelection:
    """What active selection starts from: the data stages, Stage I, and the probe spoken and tokenized."""

    data: PipelineOutputs
    stage1: TrainOutputs
    probe_texts: ArtifactRef
    probe: SpokenOutputs
    natural: SourceRefs
    text: SourceRefs

    @property
    def scored_with(self) -> ArtifactRef:
        """The checkpoint M(c) is scored with: Stage I's pre-decay one (its final one when there is none)."""
        return self.stage1.pre_decay or self.stage1.final


def stage1_and_probe(config: PipelineConfig) -> BeforeSelection:
    """Data stages → Stage I (natural speech + text replay) → probe texts spoken, gated and tokenized."""
    store = config.store
    data = data_stages(config)
    corpus, mimi = data.ingest.corpus, data.mimi_weights()
    natural, text = data.stage1_speech(), SourceRefs(corpus=corpus)
    stage1 = train_stage(config.stage1, {"natural": natural, "text": text}, data.teacher.teacher, store)
    probe_texts = build_probe_texts(corpus, data.cluster.assignments, config.probe, store)
    probe = speak(probe_texts, "probe_speech", config.tts, config.gate, config.tokenize, store, mimi)
    return BeforeSelection(data=data, stage1=stage1, probe_texts=probe_texts, probe=probe, natural=natural, text=text)


def check_launch_cost(store: ArtifactStore, selection: ArtifactRef, config: PipelineConfig) -> None:
    """Before paying for the selection's speech and Stage II: estimate, publish, refuse beyond the budget."""
    from salad_core.selection.cost import Workload

    stats = store.get(selection).manifest.stats
    hours = (
        stats["budget"]["spent"]
        if stats["budget"]["kind"] == "hours"
        else (sum(store.get(selection).to_table(columns=["words"]).column("words").to_pylist()) / stats["words_per_second"] / 3600)
    )
    stage2 = config.stage2
    tokens = stage2.steps * stage2.micro_batch_positions * stage2.grad_accum * stage2.num_procs  # an upper bound
    workload = Workload(docs_to_embed=0, natural_speech_hours=0.0, synthetic_speech_hours=hours, train_tokens=tokens)
    preflight_cost(workload, max_device_hours=config.budget.max_device_hours, override=config.budget.override)


@flow(name="salad", log_prints=True)
def salad_flow(config: PipelineConfig = PipelineConfig()) -> SaladOutputs:
    """Run the whole method in order; returns references to every artifact made (or reused)."""
    with store_lock(config.store, get_run_logger()):  # one run at a time per store (flows/store_lock.py)
        return salad_method(config)


def salad_method(config: PipelineConfig) -> SaladOutputs:
    """The method's steps (salad_flow's body, without the store's lock)."""
    store = config.store
    before = stage1_and_probe(config)
    data, stage1, probe_texts, probe, natural, text = before.data, before.stage1, before.probe_texts, before.probe, before.natural, before.text
    corpus, cluster, teacher, mimi, scored_with = data.ingest.corpus, data.cluster, data.teacher.teacher, data.mimi_weights(), before.scored_with

    # active selection: M(c) on the probe with the pre-decay checkpoint, then γ-weighted sampling
    misalignment = score_misalignment(scored_with, probe.codes.codes, probe.speech.speech, probe_texts, config.misalignment, store)
    selection = select_texts(
        corpus,
        cluster.assignments,
        cluster.stats,
        misalignment,
        config.selection,
        store,
        probe_speech=probe.speech.speech,
        gate_clusters=probe.gate.clusters,
        probe_texts=probe_texts,
    )
    selection_report(selection, store)
    # selective regeneration (off by default): only the named / moved clusters take the new draw,
    # the others keep a baseline selection's rows, so their speech and codes are copied, not made again
    regenerated = regenerate_selection(selection.selection, config.regenerate, store)
    check_launch_cost(ArtifactStore.open(store), regenerated.selection, config)
    selected = speak(regenerated.selection, "selected_speech", config.tts, config.gate, config.tokenize, store, mimi)

    # Stage II from the pre-decay checkpoint on natural / selected synthetic / text
    stage2 = train_stage(config.stage2, {"natural": natural, "synthetic": selected.source(), "text": text}, teacher, store, parent=scored_with)

    stage2_label = f"stage2_gamma{config.selection.gamma:g}"
    checkpoints = {"stage1_pre_decay": scored_with, "stage1_final": stage1.final, stage2_label: stage2.final}
    evaluation = evaluate_checkpoints(checkpoints, config.evaluation, config.tts, config.gate, config.tokenize, mimi, store, config.preset)

    finals = [*data.finals(), misalignment, regenerated.selection, stage2.final, stage2.metrics, *evaluation.results]
    publish_lineage_overview(ArtifactStore.open(store), finals, "salad")
    print(evaluation.table_markdown)
    return SaladOutputs(
        data=data,
        stage1=stage1,
        probe_texts=probe_texts,
        probe=probe,
        misalignment=misalignment,
        selection=selection,
        regenerated=regenerated,
        selected_speech=selected,
        stage2=stage2,
        evaluation=evaluation,
    )
