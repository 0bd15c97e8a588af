"""Training publishes its progress as it goes: steps, loss and tokens/s, to a real Prefect API."""

from __future__ import annotations

import json
import logging

import torch

import tasks.progress as progress_module
import tasks.sharded_stage as sharded_stage
from tasks.progress import parse_train_line
from tasks.train import train_stage
from tasks.train_worker import StoreHooks
from tests.test_training_data import TINY, tiny_training_inputs

torch.set_num_threads(1)


def worker_lines(*records: dict) -> list[str]:
    """What tasks/train_worker.py logs for these records, formatted by its own code."""
    lines: list[str] = []
    hooks = StoreHooks.__new__(StoreHooks)
    hooks.records, hooks.run = [], type("Run", (), {"config": TINY})()
    hooks.logger = type("L", (), {"warning": lambda self, fmt, *args: lines.append(fmt % args)})()
    for record in records:
        hooks.log(record)
    return lines


def test_the_workers_log_lines_parse_into_figures(capsys):
    train = {"kind": "train", "step": 4, "tokens": 2048, "loss": 3.25, "kl": 3.0, "nll": 4.5, "tokens_per_s": 812.4, "lr_adapter": 1e-3, "lr_llm": 5e-5}
    lines = worker_lines(train, {"kind": "eval", "step": 3, "M": 0.5, "F": 0.25})
    assert parse_train_line("[salad] WARNING " + lines[0]) == {
        "kind": "train",
        "step": 4,
        "tokens": 2048,
        "loss": 3.25,
        "kl": 3.0,
        "nll": 4.5,
        "tokens_per_s": 812.0,
    }
    assert parse_train_line(lines[1]) == {"kind": "eval", "step": 3, "M": 0.5, "F": 0.25}
    assert parse_train_line("checkpoint@ab12 committed at step 4") is None
    assert "SALAD_PROGRESS train 4" in capsys.readouterr().out


def test_training_publishes_loss_and_tokens_per_second_while_it_runs(prefect_harness, monkeypatch, caplog):
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    monkeypatch.setattr(progress_module, "TABLE_EVERY_S", 0.0)  # every logged step republishes the table
    monkeypatch.setattr(sharded_stage, "LOG_EVERY_S", 2.0)
    inputs = tiny_training_inputs()
    cfg = TINY.model_copy(update={"steps": 8, "log_every": 2, "eval_every": 4, "save_every": 4})

    @flow
    def train_flow():
        return train_stage(cfg, inputs.stage1_data(), inputs.teacher, inputs.store.objects.config)

    with caplog.at_level(logging.INFO):
        out = train_flow()
    metrics = inputs.store.get(out.metrics).to_table().to_pylist()
    logged = {(r["step"], r["metric"]): r["value"] for r in metrics if r["kind"] == "train"}
    tokens = {r["step"]: r["tokens"] for r in metrics if r["kind"] == "train"}

    def artifacts(key: str) -> list:
        with get_client(sync_client=True) as client:
            return client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])), sort=ArtifactSort.CREATED_DESC)[::-1]

    tables = [json.loads(a.data) for a in artifacts("salad-train-stage1-live")]
    assert len(tables) >= 4 and len(tables[0]) < len(tables[-1])  # published as it went, not once at the end
    steps = [r for r in tables[-1] if r["kind"] == "train"]
    assert [r["step"] for r in steps] == [2, 4, 6, 8]
    assert all(abs(r["loss"] - logged[(r["step"], "loss")]) < 1e-4 for r in steps)  # the figures the run stored
    assert all(r["tokens_per_s"] > 0 for r in steps) and [r["tokens"] for r in steps] == [tokens[r["step"]] for r in steps]
    assert [r["step"] for r in tables[-1] if r["kind"] == "eval"] == [0, 4, 8]

    [bar] = artifacts("salad-train-stage1-progress")
    assert bar.data == 100.0 and "8/8 steps" in bar.description and f"loss {steps[-1]['loss']:.4f}" in bar.description
    beats = [r.getMessage() for r in caplog.records if "steps after" in r.getMessage()]
    assert beats and "tokens/s" in beats[-1]  # the ≤ 30 s heartbeat, with the latest loss
    # the checkpoint, committed by a DeepSpeed rank outside Prefect, still names the flow run that made it
    made_by = inputs.store.get(out.final).manifest.run_context
    assert made_by.get("flow_run_id") and made_by.get("flow_name") == "train-flow"
