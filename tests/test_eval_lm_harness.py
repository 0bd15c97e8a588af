"""Our text-side scores equal lm-evaluation-harness's on the same Hugging Face model and items.

Run: .venv/bin/python -m pytest tests/test_eval_lm_harness.py -x -q      (~30 s; needs `lm-eval` + `accelerate`)

The harness runs its own task definitions (arc_challenge, openbookqa, piqa, hellaswag YAMLs, with
HellaSwag's preprocessing) on the real rows in ../shared/data/real_eval, read through the `json`
dataset builder (nothing downloaded), zero-shot, with a tiny random Qwen2 and our BPE tokenizer
wrapped in its HFLM. We then check, item by item: the same (context, continuation) strings, the
same log-likelihoods, the same acc and acc_norm. A second test passes our 5-shot contexts to
HFLM.loglikelihood directly (the harness would pick other shots: its sampler draws from a train split).
"""

from __future__ import annotations

import os

import pytest
import torch

lm_eval = pytest.importorskip("lm_eval", reason="lm-eval is a dev extra: pip install lm-eval accelerate")

from salad_core.corpus.bundled import generate_bundled_corpus
from salad_core.evaluation import BenchmarkConfig, EvalConfig, load_benchmark
from salad_core.evaluation.loglik import TextLM
from salad_core.evaluation.prompts import continuation, query_text
from salad_core.evaluation.scorer import build_requests, score_items
from salad_core.model import llm_from_config, tiny_qwen2_config
from salad_core.teacher.tokenizer import train_bpe_tokenizer

torch.set_num_threads(2)
# Rows of each real file used (kept small for time): HellaSwag's last 10 are the WikiHow rows with markup.
ROWS = {"arc_challenge": range(20), "openbookqa": range(20), "piqa": range(20), "hellaswag": [*range(10), *range(50, 60)]}
TASKS = {
    "arc_challenge": ("arc/arc_challenge.yaml", "arc_challenge_validation.jsonl"),
    "openbookqa": ("openbookqa/openbookqa.yaml", "openbookqa_validation.jsonl"),
    "piqa": ("piqa/piqa.yaml", "piqa_validation.jsonl"),
    "hellaswag": ("hellaswag/hellaswag.yaml", "hellaswag_validation.jsonl"),
}


@pytest.fixture(scope="module")
def model_and_tokenizer():
    tok = train_bpe_tokenizer(generate_bundled_corpus(300, seed=3)["text"].to_pylist(), vocab_size=600)
    torch.manual_seed(0)
    return llm_from_config(tiny_qwen2_config(len(tok), hidden=64, n_layer=2)).eval(), tok


@pytest.fixture(scope="module")
def hflm(model_and_tokenizer):
    from lm_eval.models.huggingface import HFLM

    model, tok = model_and_tokenizer
    return HFLM(pretrained=model, tokenizer=tok, batch_size=16, max_length=2048)


def test_zero_shot_acc_and_acc_norm_equal_the_harness_item_by_item(hflm, model_and_tokenizer, shared_data, tmp_path, monkeypatch):
    import lm_eval.tasks
    from lm_eval.tasks import TaskManager

    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "datasets"))
    tasks_dir = os.path.dirname(lm_eval.tasks.__file__)
    (tmp_path / "tasks").mkdir()
    real = tmp_path / "rows"  # a subset of each real file (rows unedited), read by both sides
    real.mkdir()
    for name, (_, data) in TASKS.items():
        lines = (shared_data / "real_eval" / data).read_text().splitlines()
        (real / data).write_text("".join(lines[i] + "\n" for i in ROWS[name]))
    for name, (yaml, data) in TASKS.items():
        (tmp_path / "tasks" / f"salad_{name}.yaml").write_text(
            f"include: {tasks_dir}/{yaml}\ntask: salad_{name}\ndataset_path: json\ndataset_name: null\n"
            f"dataset_kwargs:\n  data_files:\n    validation: {real / data}\n"
            "training_split: null\nvalidation_split: validation\ntest_split: null\n"
        )
    result = lm_eval.simple_evaluate(
        model=hflm,
        tasks=[f"salad_{n}" for n in TASKS],
        num_fewshot=0,
        log_samples=True,
        task_manager=TaskManager(include_path=str(tmp_path / "tasks")),
    )
    model, tok = model_and_tokenizer
    for name, (_, data) in TASKS.items():
        items = load_benchmark(BenchmarkConfig(name=name, paths=[str(real / data)])).items
        ours = score_items(TextLM(model), tok, items, EvalConfig(n_shots=0, batch_size=16))
        theirs = sorted(result["samples"][f"salad_{name}"], key=lambda s: s["doc_id"])
        assert len(theirs) == len(ours) == len(ROWS[name])
        for item, mine, sample in zip(items, ours, theirs):
            assert [tuple(a) for a in sample["arguments"]] == [(query_text(item), continuation(item, k)) for k in range(len(item.options))], (
                f"{name} {item.id}: other prompt text"
            )
            assert list(mine.logprobs) == pytest.approx([r[0] for r in sample["filtered_resps"]], abs=1e-3)
            assert (mine.correct_raw, mine.correct_norm) == (bool(sample["acc"]), bool(sample["acc_norm"])), f"{name} {item.id}"
        mean_norm = sum(s.correct_norm for s in ours) / len(ours)
        assert mean_norm == pytest.approx(result["results"][f"salad_{name}"]["acc_norm,none"])


def test_few_shot_contexts_scored_by_the_harness_loglikelihood(hflm, model_and_tokenizer, shared_data):
    from lm_eval.api.instance import Instance

    model, tok = model_and_tokenizer
    items = load_benchmark(BenchmarkConfig(name="arc_challenge", paths=[str(shared_data / "real_eval/arc_challenge_validation.jsonl")])).items
    config = EvalConfig(n_shots=5, max_positions=2048, batch_size=16)
    ours = score_items(TextLM(model), tok, items[:8], config, pool=items)
    instances, n = [], 0
    for item in items[:8]:
        reqs, n_shots = build_requests(tok, item, items, config)
        assert n_shots == 5
        context = tok.decode(reqs[0].prefix)
        for k in range(len(item.options)):
            instances.append(Instance("loglikelihood", {}, (context, continuation(item, k)), idx=n))
            n += 1
    theirs = [lp for lp, _ in hflm.loglikelihood(instances, disable_tqdm=True)]
    assert [x for s in ours for x in s.logprobs] == pytest.approx(theirs, abs=1e-3)
