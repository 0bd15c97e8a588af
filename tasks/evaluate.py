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
device or batch size. Where it runs: `config.device` (cuda on a GPU worker, cpu otherwise).
"""

from __future__ import annotations

from pathlib import Path

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
from tasks.sharded_stage import TableStage, stage_logger, stage_version

EVAL_RESULTS = "eval_results"
_EVAL_DIR = Path(salad_core.evaluation.__file__).parent
EVAL_CODE_VERSION = stage_version("eval-results-2", __name__)
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
    log = stage_logger()
    items, pool = _read_items(store, items_refs, config.limit_per_benchmark)
    tables, missing = [], {}
    with torch_threads(config.cpu_threads):
        for view in views:
            if view == "teacher_text":
                scores = score_items(TextLM(teacher), tokenizer, items, config, pool=pool)
            elif view == "student_text":
                scores = score_items(student, tokenizer, items, config, pool=pool)
            else:
                frames = frames_by_id([store.get(r).to_table(columns=["id", "codes", "n_frames", "n_codebooks"]) for r in codes_refs])
                scores = score_items(student, tokenizer, items, config, pool=pool, frames=frames)
                for i in items:
                    if i.id not in frames:
                        missing.setdefault(i.benchmark, []).append(i.id)
            log.info("%s %s: %d items scored", label, view, len(scores))
            tables.append(results_table(label, view, scores))
    extra = {"speech_missing": {b: {"count": len(ids), "ids": ids[:20]} for b, ids in missing.items()}} if missing else {}
    return pa.concat_tables(tables) if tables else RESULTS_SCHEMA.empty_table(), extra


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
    from tasks.checkpoint_store import (
        load_student,  # training stack: imported only when a checkpoint is scored
    )

    store = ArtifactStore.open(store_config)
    label = label or str(checkpoint)
    if "student_speech" in config.views and not spoken_codes:
        raise ValueError("student_speech needs spoken_codes (the Mimi codes of the spoken items); or drop the view")
    parents = [checkpoint, *items, *spoken_codes]
    spec = StageSpec(name=EVAL_RESULTS, params={**config.result_params(), "label": label}, code_version=EVAL_CODE_VERSION, parents=parents)

    def compute():
        bundle = load_student(store, checkpoint, device=config.device)
        scoring = config
        if config.speech_markers is None:  # read speech the way this checkpoint was trained to
            scoring = config.model_copy(update={"speech_markers": bundle.config.use_speech_markers})
        return _score_views(store, label, config.views, bundle.teacher, bundle.student, bundle.tokenizer, items, spoken_codes, scoring)

    return _run(store, spec, label, compute)


@task(name="evaluate-teacher")
def evaluate_teacher(teacher: ArtifactRef, items: list[ArtifactRef], config: EvalConfig, store_config: StoreConfig, label: str = "teacher") -> EvalOutputs:
    """Teacher-text only: the ceiling every checkpoint is compared with (and a check of the items before training)."""
    from tasks.teacher import load_teacher

    store = ArtifactStore.open(store_config)
    params = {**config.result_params(), "views": ["teacher_text"], "label": label}
    spec = StageSpec(name=EVAL_RESULTS, params=params, code_version=EVAL_CODE_VERSION, parents=[teacher, *items])

    def compute():
        model, tokenizer = load_teacher(store, teacher, device=config.device, dtype="float32")
        return _score_views(store, label, ["teacher_text"], model, None, tokenizer, items, [], config)

    return _run(store, spec, label, compute)


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
