"""Evaluation tasks on a local store: items + quarantine versioned and reused, spoken inputs, scoring a stored
teacher and a stored checkpoint into `eval_results`, and the report across checkpoints.

Run: .venv/bin/python -m pytest tests/test_eval_tasks.py -x -q
"""

from __future__ import annotations

import io
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import soundfile as sf
import torch

from salad_core.corpus.bundled import generate_bundled_corpus
from salad_core.evaluation import BenchmarkConfig, EvalConfig
from salad_core.model import (
    AdapterConfig,
    SpeechAdapter,
    SpeechLM,
    llm_from_config,
    tiny_qwen2_config,
)
from salad_core.teacher.tokenizer import train_bpe_tokenizer
from salad_core.teacher.tokenizer_table import tokenizer_to_table
from salad_core.teacher.weights_table import state_dict_to_table
from salad_core.training.config import TrainConfig
from storage import StageSpec
from tasks.checkpoint_store import CHECKPOINT, write_checkpoint
from tasks.eval_items import load_eval_items, spoken_inputs
from tasks.evaluate import eval_report, evaluate_checkpoint, evaluate_teacher
from tasks.sharded_stage import write_table_artifact
from tasks.teacher import TEACHER, TOKENIZER

torch.set_num_threads(1)


def test_items_versioned_with_quarantine_and_reused(local_store, shared_data, tmp_path):
    cfg = local_store.objects.config
    piqa = BenchmarkConfig(name="piqa", paths=[str(shared_data / "real_eval/piqa_validation.jsonl")])
    out = load_eval_items.fn(piqa, cfg)
    assert (out.n_items, out.n_quarantined, out.reused) == (60, 0, False)
    assert out.items.name == "eval_items_piqa" and out.quarantine.name == "eval_items_piqa_quarantine"
    assert load_eval_items.fn(piqa, cfg).items == out.items and load_eval_items.fn(piqa, cfg).reused
    # a malformed row is quarantined in the artifact, with its line and reason
    bad = tmp_path / "piqa.jsonl"
    bad.write_text(
        json.dumps({"goal": "g", "sol1": "a", "sol2": "b", "label": 0}) + "\n" + json.dumps({"goal": "g2", "sol1": "a", "sol2": "b", "label": 2}) + "\n"
    )
    out = load_eval_items.fn(BenchmarkConfig(name="piqa", paths=[str(bad)]), cfg)
    assert (out.n_items, out.n_quarantined) == (1, 1)
    row = local_store.get(out.quarantine).to_table().to_pylist()[0]
    assert row["source"].endswith("piqa.jsonl:2") and row["reason"] == "answer out of range: 2 for 2 options"
    # an edited input file is a new version
    bad.write_text(json.dumps({"goal": "g", "sol1": "a", "sol2": "b", "label": 1}) + "\n")
    assert load_eval_items.fn(BenchmarkConfig(name="piqa", paths=[str(bad)]), cfg).items != out.items


def test_spoken_inputs_text_for_synthesis_and_shipped_audio(local_store, tmp_path):
    cfg = local_store.objects.config
    bundled = load_eval_items.fn(BenchmarkConfig(name="bundled_mc", n_items=28), cfg)
    spoken = spoken_inputs.fn(bundled.items, cfg)
    assert spoken.audio is None
    text = local_store.get(spoken.text).to_table()
    items = local_store.get(bundled.items).to_table()
    assert text.column_names == ["id", "text"] and text.column("id") == items.column("id")
    assert text.column("text").to_pylist() == items.column("context").to_pylist()  # no question: the paragraph only
    buf = io.BytesIO()
    sf.write(buf, np.zeros(8000, dtype=np.float32), 16000, format="WAV")
    path = tmp_path / "openbookqa-test.parquet"
    pq.write_table(pa.Table.from_pylist([{"audio": {"bytes": buf.getvalue(), "path": "a.wav"}, "prompt": "Q?\nA. x\nB. y", "reference": "B"}]), path)
    vb = load_eval_items.fn(BenchmarkConfig(name="voicebench_openbookqa", paths=[str(path)]), cfg)
    shipped = spoken_inputs.fn(vb.items, cfg)
    assert shipped.text is None and local_store.get(shipped.audio).to_table().column_names == ["id", "audio"]


@pytest.fixture(scope="module")
def tiny_models():
    tok = train_bpe_tokenizer(generate_bundled_corpus(300, seed=3)["text"].to_pylist(), vocab_size=600)
    torch.manual_seed(0)
    teacher = llm_from_config(tiny_qwen2_config(len(tok), hidden=64, n_layer=2)).eval()
    return tok, teacher


def _store_teacher(store, tok, teacher):
    tok_ref = write_table_artifact(store, StageSpec(name=TOKENIZER, code_version="test"), tokenizer_to_table(tok, "embedded"))
    spec = StageSpec(name=TEACHER, code_version="test", parents=[tok_ref])
    return tok_ref, write_table_artifact(store, spec, state_dict_to_table(teacher.state_dict(), teacher.config))


def _store_checkpoint(store, tok_ref, teacher_ref, teacher, perturb: float, step: int):
    """A 'trained' student: the teacher's weights nudged by `perturb`, plus a random tiny adapter."""
    torch.manual_seed(step)
    llm = llm_from_config(teacher.config)
    llm.load_state_dict(teacher.state_dict())
    with torch.no_grad():
        for p in llm.parameters():
            p.add_(perturb * torch.randn_like(p))
    adapter = SpeechAdapter(AdapterConfig.preset("tiny", llm_hidden=64))
    student = SpeechLM(llm, adapter)
    config = TrainConfig()
    spec = StageSpec(name=CHECKPOINT, params={"train": config.content_params(), "step": step}, code_version="test", parents=[teacher_ref])
    stats = {
        "teacher": teacher_ref.model_dump(),
        "tokenizer": tok_ref.model_dump(),
        "mimi_weights": None,
        "has_speech": False,
        "llm_config": llm.config.to_json_string(use_diff=False),
        "adapter": adapter.cfg.model_dump(),
    }
    return write_checkpoint(store, spec, student.state_dict(), {}, stats)


def test_teacher_and_checkpoints_scored_into_eval_results_and_reported(local_store, tiny_models):
    cfg = local_store.objects.config
    tok, teacher = tiny_models
    tok_ref, teacher_ref = _store_teacher(local_store, tok, teacher)
    items = load_eval_items.fn(BenchmarkConfig(name="bundled_mc", n_items=14), cfg).items
    config = EvalConfig(n_shots=0, max_positions=512, views=["teacher_text", "student_text"])

    alone = evaluate_teacher.fn(teacher_ref, [items], config, cfg)
    table = local_store.get(alone.results).to_table()
    assert table.num_rows == 14 and set(table.column("view").to_pylist()) == {"teacher_text"}

    same = _store_checkpoint(local_store, tok_ref, teacher_ref, teacher, perturb=0.0, step=1)
    out = evaluate_checkpoint.fn(same, [items], [], config, cfg, label="unchanged")
    rows = local_store.get(out.results).to_table().to_pylist()
    by_view = {v: [r for r in rows if r["view"] == v] for v in ("teacher_text", "student_text")}
    # a student identical to its teacher scores the same on text: no forgetting, and the same as evaluate_teacher
    for t, s in zip(by_view["teacher_text"], by_view["student_text"]):
        assert t["id"] == s["id"] and t["logprobs"] == pytest.approx(s["logprobs"], abs=1e-4)
    assert [x for r in by_view["teacher_text"] for x in r["logprobs"]] == pytest.approx(
        [x for lps in table.column("logprobs").to_pylist() for x in lps], abs=1e-4
    )
    stats = local_store.get(out.results).manifest.stats
    bench = stats["benchmarks"]["bundled_mc"]
    assert bench["acc_norm"]["teacher_text"] == bench["acc_norm"]["student_text"] and bench["gap"] is None
    assert len(stats["topics"]) == 14 and "| bundled_mc | 14 |" in out.markdown
    assert evaluate_checkpoint.fn(same, [items], [], config, cfg, label="unchanged").reused

    noisy = _store_checkpoint(local_store, tok_ref, teacher_ref, teacher, perturb=0.05, step=2)
    out2 = evaluate_checkpoint.fn(noisy, [items], [], config, cfg, label="perturbed")
    report = eval_report.fn([out.results, out2.results], cfg, paper_size="3b")
    assert "### unchanged" in report and "### perturbed" in report and "side by side" in report
    with pytest.raises(ValueError, match="student_speech needs spoken_codes"):
        evaluate_checkpoint.fn(noisy, [items], [], EvalConfig(), cfg)


def test_speech_view_reads_codes_artifacts_and_reports_items_without_codes(local_store, tiny_models):
    """The student-speech path of the task: codes rows (tokenize's layout) -> frames; a missing item is counted, not hidden."""
    from tasks.evaluate import _score_views

    cfg = local_store.objects.config
    tok, teacher = tiny_models
    items_ref = load_eval_items.fn(BenchmarkConfig(name="bundled_mc", n_items=14), cfg).items
    ids = local_store.get(items_ref).to_table().column("id").to_pylist()
    rng = np.random.default_rng(0)
    rows = [{"id": i, "codes": rng.integers(0, 16, size=6 * 8).astype(np.int16), "n_frames": 6, "n_codebooks": 8} for i in ids[:10]]
    codes = pa.Table.from_pylist(
        rows, schema=pa.schema([("id", pa.string()), ("codes", pa.list_(pa.int16())), ("n_frames", pa.int32()), ("n_codebooks", pa.int32())])
    )
    codes_ref = write_table_artifact(local_store, StageSpec(name="eval_codes_test", code_version="test"), codes)

    def codes_to_latents(c):  # (S, n_q, F) -> (S, 512, F)
        return c.float().sum(1, keepdim=True).repeat(1, 512, 1) / 100

    student = SpeechLM(teacher, SpeechAdapter(AdapterConfig.preset("tiny", llm_hidden=64)), codes_to_latents).eval()
    config = EvalConfig(n_shots=0, max_positions=512, speech_markers=True)
    table, extra = _score_views(local_store, "ckpt", ["student_speech"], teacher, student, tok, [items_ref], [codes_ref], config)
    assert table.column("id").to_pylist() == ids[:10] and set(table.column("view").to_pylist()) == {"student_speech"}
    assert extra["speech_missing"] == {"bundled_mc": {"count": 4, "ids": ids[10:]}}
