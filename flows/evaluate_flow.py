"""Flow: score checkpoints on spoken multiple-choice benchmarks — teacher on text, student on text,
student on speech — and the text–speech gap.

Run it after any training stage (the SALAD flow ends with it):
    salad run evaluate                      # the newest `checkpoint` version; or the flow parameter checkpoints=[checkpoint@<fp>, ...]
    salad run evaluate --set 'evaluation.benchmarks=[{name: arc_challenge, paths: [/data/arc/test.jsonl]}]'

Per benchmark: the items artifact (native files → one schema, malformed rows quarantined), its
spoken part (context + question) synthesised, gated and tokenized with the run's Mimi weights
(benchmarks that ship audio are tokenized as they are), then one `eval_results` version per
checkpoint and the report with every checkpoint side by side.
"""

from __future__ import annotations

from prefect import flow
from pydantic import BaseModel, Field

from flows.config import EvaluationConfig, PipelineConfig
from flows.spoken import speak
from storage import ArtifactRef, ArtifactStore, StoreConfig
from tasks.eval_items import EvalItemsOutputs, load_eval_items, spoken_inputs
from tasks.evaluate import EvalOutputs, eval_report, evaluate_checkpoint
from tasks.quality_gate_config import QualityGateConfig
from tasks.tokenize import tokenize_speech
from tasks.tokenize_config import TokenizeConfig
from tasks.tts_config import SynthesisConfig

PAPER_SIZES = {"3b", "7b"}


class EvaluationOutputs(BaseModel):
    items: list[EvalItemsOutputs]
    spoken_codes: list[ArtifactRef] = Field(description="Mimi codes of the benchmarks' spoken parts.")
    checkpoints: dict[str, EvalOutputs]
    table_markdown: str

    @property
    def results(self) -> list[ArtifactRef]:
        """The `eval_results` version of each scored checkpoint, in the order the checkpoints were given."""
        return [out.results for out in self.checkpoints.values()]


def evaluate_checkpoints(
    checkpoints: dict[str, ArtifactRef],
    evaluation: EvaluationConfig,
    tts: SynthesisConfig,
    gate: QualityGateConfig,
    tokenize: TokenizeConfig,
    mimi_weights: ArtifactRef | None,
    store: StoreConfig,
    preset: str = "tiny",
) -> EvaluationOutputs:
    """Items, their speech and codes (each reused when committed), then every checkpoint scored."""
    items = [load_eval_items(benchmark, store) for benchmark in evaluation.benchmarks]
    codes: list[ArtifactRef] = []
    shared = {"weights_artifact": str(mimi_weights)} if mimi_weights and not tokenize.weights_artifact else {}
    for loaded in items:
        parts = spoken_inputs(loaded.items, store)
        if parts.text is not None:
            codes.append(speak(parts.text, f"{loaded.items.name}_speech", tts, gate, tokenize, store, mimi_weights).codes.codes)
        if parts.audio is not None:
            shipped = tokenize.model_copy(update={"output_name": f"{loaded.items.name}_audio_codes", **shared})
            codes.append(tokenize_speech(parts.audio, shipped, store).codes)
    scored = {label: evaluate_checkpoint(ref, [i.items for i in items], codes, evaluation.scoring, store, label=label) for label, ref in checkpoints.items()}
    table = eval_report([out.results for out in scored.values()], store, paper_size=preset if preset in PAPER_SIZES else None)
    return EvaluationOutputs(items=items, spoken_codes=codes, checkpoints=scored, table_markdown=table)


@flow(name="salad-evaluate", log_prints=True)
def evaluate_flow(config: PipelineConfig = PipelineConfig(), checkpoints: list[str] = ["checkpoint"]) -> EvaluationOutputs:
    """Score the named checkpoints (`name` = newest version, or `name@fingerprint`) on `config.evaluation`."""
    store = ArtifactStore.open(config.store)
    refs = {name: store.get(name).ref for name in checkpoints}
    weights = store.get(config.tokenize.weights_artifact or config.tokenize.weights_name).ref if _has(store, config) else None
    out = evaluate_checkpoints(refs, config.evaluation, config.tts, config.gate, config.tokenize, weights, config.store, config.preset)
    print(out.table_markdown)
    return out


def _has(store: ArtifactStore, config: PipelineConfig) -> bool:
    name = (config.tokenize.weights_artifact or config.tokenize.weights_name).partition("@")[0]
    return name in store.names()
