"""Prefect tasks: score a checkpoint on the evaluation items in three views; the report across checkpoints.

    from tasks.evaluate import evaluate_checkpoint, evaluate_teacher, eval_report
    out = evaluate_checkpoint(checkpoint_ref, [items_ref, ...], [codes_ref, ...], EvalConfig(), store_config,
                              label="stage1_pre_decay")
    out.results, out.markdown                    # `eval_results` version; the table also as a Prefect artifact
    out = evaluate_teacher(teacher_ref, [items_ref], EvalConfig(), store_config)   # teacher-text only (before training)
    md = eval_report([out1.results, out2.results], store_config, paper_size="3b")  # checkpoints side by side

`eval_results` has one row per (view, item): checkpoint label, view (teacher_text | student_text |
student_speech), id, benchmark, topic, answer, per-option log-probs and lengths, both predictions
and both correctness flags, shots used and positions. Its manifest stats hold the per-benchmark
summary (acc_norm, the paper's metric; acc beside it), the signed mean gap, the markdown table, and
per benchmark the items without spoken codes (`speech_missing`: never a silent skip). The
fingerprint covers the checkpoint, the item and code versions and the scoring config, not the
device, batch size or Ray settings. Where it runs: `config.device` (cuda on a GPU worker, cpu otherwise).

Scoring runs in two steps, so that a large evaluation spreads over a Ray pool (``config.ray``,
as embedding and Mimi do; ``n_actors: 0``, the default, scores in this process):
1. ``eval_scores``: the same rows, ``config.items_per_shard`` items a shard (every view of them);
   each actor loads the model once and writes and commits its shards itself.
2. ``eval_results``: those rows view by view in item order, with the summary in its manifest.
"""

from __future__ import annotations

import math
from functools import partial
from pathlib import Path
from typing import Literal

import pyarrow as pa
from prefect import task
from pydantic import BaseModel

import salad_core.evaluation
from salad_core.evaluation.config import EvalConfig
from salad_core.evaluation.items import McItem, table_to_items
from salad_core.evaluation.loglik import TextLM
from salad_core.evaluation.metrics import VIEWS, AccuracyRow, signed_mean_gap, summarize
from salad_core.evaluation.report import benchmark_table, checkpoint_table, topic_table
from salad_core.evaluation.scorer import ItemScore, score_items
from salad_core.evaluation.spoken import frames_by_id
from salad_core.teacher.threads import torch_threads
from storage import ArtifactRef, ArtifactStore, StageSpec, StoreConfig
from tasks.publish import in_prefect_run
from tasks.ray_stage import EXECUTION_MODULES, run_stage
from tasks.sharded_stage import ShardedStage, TableStage, stage_logger, stage_version

EVAL_RESULTS = "eval_results"
EVAL_SCORES = "eval_scores"
_EVAL_DIR = Path(salad_core.evaluation.__file__).parent
EVAL_CODE_VERSION = stage_version("eval-results-3", __name__, exclude=EXECUTION_MODULES)
RESULTS_SCHEMA = pa.schema(
    [
        ("checkpoint", pa.string()),
        ("view", pa.string()),
        ("id", pa.string()),
        ("benchmark", pa.string()),
        ("topic", pa.string()),
        ("answer", pa.int32()),
        ("logprobs", pa.list_(pa.float64())),
        ("n_chars", pa.list_(pa.int32())),
        ("pred_raw", pa.int32()),
        ("pred_norm", pa.int32()),
        ("correct_raw", pa.bool_()),
        ("correct_norm", pa.bool_()),
        ("n_shots", pa.int32()),
        ("n_positions", pa.int32()),
    ]
)


class EvalOutputs(BaseModel):
    results: ArtifactRef
    reused: bool
    markdown: str


def results_table(label: str, view: str, scores: list[ItemScore]) -> pa.Table:
    """One `eval_results` row per scored item of `view`, labelled with the checkpoint."""
    return pa.Table.from_pylist(
        [
            {
                "checkpoint": label,
                "view": view,
                "id": s.id,
                "benchmark": s.benchmark,
                "topic": s.topic,
                "answer": s.answer,
                "logprobs": list(s.logprobs),
                "n_chars": list(s.n_chars),
                "pred_raw": s.pred_raw,
                "pred_norm": s.pred_norm,
                "correct_raw": s.correct_raw,
                "correct_norm": s.correct_norm,
                "n_shots": s.n_shots,
                "n_positions": s.n_positions,
            }
            for s in scores
        ],
        schema=RESULTS_SCHEMA,
    )


def _summary_stats(table: pa.Table) -> tuple[dict, str]:
    rows = table.to_pylist()
    norm, raw = summarize(rows, "acc_norm"), summarize(rows, "acc", by_topic=False)
    raw_by = {r.benchmark: r for r in raw}

    def entry(r: AccuracyRow) -> dict:
        return {"n_items": r.n_items, "acc_norm": r.accuracy, "acc": raw_by[r.benchmark].accuracy, "gap": r.gap}

    stats = {
        "metric": "acc_norm",
        "benchmarks": {r.benchmark: entry(r) for r in norm if r.topic is None},
        "topics": {f"{r.benchmark}/{r.topic}": {"n_items": r.n_items, "acc_norm": r.accuracy, "gap": r.gap} for r in norm if r.topic},
        "signed_mean_gap": signed_mean_gap(norm),
    }
    markdown = benchmark_table(norm)
    if stats["topics"]:
        markdown += "\n\n" + topic_table(norm)
    return stats, markdown


def _publish_table(label: str, stats: dict) -> None:
    if not in_prefect_run():
        return
    from prefect.artifacts import create_table_artifact

    def pct(x):
        return None if x is None else round(100 * x, 1)

    table = [{"benchmark": b, **{v: pct(e["acc_norm"][v]) for v in VIEWS}, "gap": pct(e["gap"])} for b, e in stats["benchmarks"].items()]
    table.append({"benchmark": "signed mean gap", "gap": pct(stats["signed_mean_gap"])})
    key = "salad-eval-" + "".join(c if c.isalnum() else "-" for c in label.lower())
    create_table_artifact(table, key=key, description=f"{label}: accuracy (acc_norm, %) per view and the text-speech gap")


def _read_items(store: ArtifactStore, refs: list[ArtifactRef], limit: int | None) -> tuple[list[McItem], list[McItem]]:
    """(items to score, shot pool): the pool is every item, the scored ones the first `limit` per benchmark."""
    pool = [i for ref in refs for i in table_to_items(store.get(ref).to_table())]
    counts: dict[str, int] = {}
    scored = []
    for i in pool:
        counts[i.benchmark] = counts.get(i.benchmark, 0) + 1
        if limit is None or counts[i.benchmark] <= limit:
            scored.append(i)
    return scored, pool


def _score_views(store, label, views, teacher, student, tokenizer, items_refs, codes_refs, config) -> tuple[pa.Table, dict]:
    """Every view of the items in `items_refs` in one call (speech from `codes_refs`): the table and
    the `speech_missing` stats entry."""
    items, pool = _read_items(store, items_refs, config.limit_per_benchmark)
    frames = _frames(store, codes_refs) if "student_speech" in views else {}
    table = score_views(label, views, teacher, student, tokenizer, items, pool, frames, config)
    return table, _speech_missing(items, table, views)


def score_views(label, views, teacher, student, tokenizer, items: list[McItem], pool: list[McItem], frames: dict, config: EvalConfig) -> pa.Table:
    """The `eval_results` rows of `items`, view by view (shots drawn from `pool`; speech from `frames`,
    items without frames are left out of the speech view and reported by the caller)."""
    log = stage_logger()
    tables = []
    with torch_threads(config.cpu_threads):
        for view in views:
            if view == "teacher_text":
                scores = score_items(TextLM(teacher), tokenizer, items, config, pool=pool)
            elif view == "student_text":
                scores = score_items(student, tokenizer, items, config, pool=pool)
            else:
                scores = score_items(student, tokenizer, items, config, pool=pool, frames=frames)
            log.info("%s %s: %d items scored", label, view, len(scores))
            tables.append(results_table(label, view, scores))
    return pa.concat_tables(tables) if tables else RESULTS_SCHEMA.empty_table()


def _frames(store: ArtifactStore, codes_refs: list[ArtifactRef]) -> dict:
    return frames_by_id([store.get(r).to_table(columns=["id", "codes", "n_frames", "n_codebooks"]) for r in codes_refs])


def _speech_missing(items: list[McItem], table: pa.Table, views: list[str]) -> dict:
    """Per benchmark, the scored items without a student-speech row (no spoken codes): never a silent skip."""
    if "student_speech" not in views:
        return {}
    spoken = {r["id"] for r in table.select(["view", "id"]).to_pylist() if r["view"] == "student_speech"}
    missing: dict[str, list[str]] = {}
    for i in items:
        if i.id not in spoken:
            missing.setdefault(i.benchmark, []).append(i.id)
    return {"speech_missing": {b: {"count": len(ids), "ids": ids[:20]} for b, ids in missing.items()}} if missing else {}


class EvalScoresStage(ShardedStage):
    """Shard i of the scores: every view of items [i·n, (i+1)·n) of the scored list. The model (a
    checkpoint's student and teacher, or the teacher alone) loads once per process, per Ray actor."""

    schema = RESULTS_SCHEMA

    def __init__(
        self,
        store: ArtifactStore,
        spec: StageSpec,
        model: ArtifactRef,
        kind: Literal["checkpoint", "teacher"],
        label: str,
        views: list[str],
        items: list[ArtifactRef],
        spoken_codes: list[ArtifactRef],
        config: EvalConfig,
    ):
        self.items, self.pool = _read_items(store, items, config.limit_per_benchmark)
        self.config = config
        super().__init__(store, spec, self.num_shards())
        self.model, self.kind, self.label, self.views, self.spoken_codes = model, kind, label, views, spoken_codes
        self.loaded: tuple | None = None  # (teacher, student, tokenizer, scoring config, frames)

    def num_shards(self) -> int:
        """Enough shards of `items_per_shard` items for every scored item (one, empty, when there are none)."""
        return max(1, math.ceil(len(self.items) / self.config.items_per_shard))

    def load_model(self) -> None:
        """The models, the scoring config as the checkpoint reads speech, and the spoken items' frames; once."""
        if self.loaded is not None:
            return
        scoring = self.config
        if self.kind == "teacher":
            from tasks.teacher import load_teacher

            teacher, tokenizer = load_teacher(self.store, self.model, device=self.config.device, dtype="float32")
            student = None
        else:
            from tasks.checkpoint_store import load_student  # training stack: imported only when a checkpoint is scored

            bundle = load_student(self.store, self.model, device=self.config.device)
            teacher, student, tokenizer = bundle.teacher, bundle.student, bundle.tokenizer
            if self.config.speech_markers is None:  # read speech the way this checkpoint was trained to
                scoring = self.config.model_copy(update={"speech_markers": bundle.config.use_speech_markers})
        frames = _frames(self.store, self.spoken_codes) if "student_speech" in self.views else {}
        self.loaded = (teacher, student, tokenizer, scoring, frames)

    def process_shard(self, shard: int) -> tuple[pa.Table, None]:
        """Every view of this shard's items."""
        self.load_model()
        teacher, student, tokenizer, scoring, frames = self.loaded
        n = self.config.items_per_shard
        chunk = self.items[shard * n : (shard + 1) * n]
        return score_views(self.label, self.views, teacher, student, tokenizer, chunk, self.pool, frames, scoring), None


def _evaluate(store, model, kind, label, views, items, spoken_codes, config, params, parents) -> EvalOutputs:
    """Scores (sharded, on Ray when configured), then `eval_results` from them with its summary."""
    scores_spec = StageSpec(name=EVAL_SCORES, params={**params, "items_per_shard": config.items_per_shard}, code_version=EVAL_CODE_VERSION, parents=parents)
    build = partial(EvalScoresStage, spec=scores_spec, model=model, kind=kind, label=label, views=views, items=items, spoken_codes=spoken_codes, config=config)
    stage = build(store)
    scores = run_stage(stage, config.ray, build).ref
    spec = StageSpec(name=EVAL_RESULTS, params=params, code_version=EVAL_CODE_VERSION, parents=[*parents, scores])

    def compute():
        table = store.get(scores).to_table()
        order = {v: i for i, v in enumerate(views)}  # view by view, items in order within a view
        rows = sorted(enumerate(table.to_pylist()), key=lambda ir: (order[ir[1]["view"]], ir[0]))
        table = pa.Table.from_pylist([r for _, r in rows], schema=RESULTS_SCHEMA)
        return table, _speech_missing(stage.items, table, views)  # the items the stage read, not read again

    return _run(store, spec, label, compute)


def _run(store, spec, label, compute) -> EvalOutputs:
    def build():
        table, extra = compute()
        stats, markdown = _summary_stats(table)
        return table, {**stats, **extra, "label": label, "markdown": markdown}

    result = TableStage(store, spec, build).run()
    stats = store.get(result.ref).manifest.stats
    _publish_table(label, stats)
    return EvalOutputs(results=result.ref, reused=result.reused, markdown=stats["markdown"])


@task(name="evaluate-checkpoint")
def evaluate_checkpoint(
    checkpoint: ArtifactRef,
    items: list[ArtifactRef],
    spoken_codes: list[ArtifactRef],
    config: EvalConfig,
    store_config: StoreConfig,
    label: str | None = None,
) -> EvalOutputs:
    """Teacher-text, student-text and student-speech (`config.views`) on `items`; speech from `spoken_codes`."""
    store = ArtifactStore.open(store_config)
    label = label or str(checkpoint)
    if "student_speech" in config.views and not spoken_codes:
        raise ValueError("student_speech needs spoken_codes (the Mimi codes of the spoken items); or drop the view")
    params = {**config.result_params(), "label": label}
    return _evaluate(store, checkpoint, "checkpoint", label, config.views, items, spoken_codes, config, params, [checkpoint, *items, *spoken_codes])


@task(name="evaluate-teacher")
def evaluate_teacher(teacher: ArtifactRef, items: list[ArtifactRef], config: EvalConfig, store_config: StoreConfig, label: str = "teacher") -> EvalOutputs:
    """Teacher-text only: the ceiling every checkpoint is compared with (and a check of the items before training)."""
    store = ArtifactStore.open(store_config)
    params = {**config.result_params(), "views": ["teacher_text"], "label": label}
    return _evaluate(store, teacher, "teacher", label, ["teacher_text"], items, [], config, params, [teacher, *items])


@task(name="eval-report")
def eval_report(results: list[ArtifactRef], store_config: StoreConfig, paper_size: str | None = None) -> str:
    """Markdown: each checkpoint's table (with the paper's numbers for `paper_size`), then all side by side."""
    store = ArtifactStore.open(store_config)
    tables = [store.get(r).to_table() for r in results]
    labels = [t.column("checkpoint")[0].as_py() for t in tables if t.num_rows]
    rows = summarize(pa.concat_tables(tables).to_pylist()) if tables else []
    parts = []
    for label in labels:
        mine = [r for r in rows if r.checkpoint == label]
        parts += [f"### {label}", "", benchmark_table(mine, paper_size=paper_size), ""]
    if len(labels) > 1:
        parts += ["### Checkpoints side by side (student speech / gap, acc_norm %)", "", checkpoint_table(rows, labels)]
    markdown = "\n".join(parts)
    if in_prefect_run():
        from prefect.artifacts import create_markdown_artifact

        create_markdown_artifact(markdown, key="salad-eval-report", description="evaluation: checkpoints side by side")
    return markdown
