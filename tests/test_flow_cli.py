"""The pipeline under Prefect, and the ``salad`` CLI over what it stored."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from deployments.cli import app
from flows.config import load_config
from flows.pipeline import pipeline_flow

runner = CliRunner()
# a teacher small enough for a test: the point here is orchestration, not perplexity
MICRO_TEACHER = ["teacher.hidden=32", "teacher.mlp=64", "teacher.n_layer=1", "teacher.train_steps=5", "teacher.seq_len=32", "teacher.batch_size=4"]


@pytest.fixture
def store_uri(tmp_path):
    return str(tmp_path / "store")


def test_pipeline_under_prefect_reuses_on_rerun_and_cli_shows_it(prefect_harness, store_uri):
    cfg = load_config("tiny", [f"store.uri={store_uri}", "ingest.bundled_docs=300", "stage1_texts.limit=3", "stage1_texts.max_words=20", *MICRO_TEACHER])
    first_run, second_run = pipeline_flow(cfg), pipeline_flow(cfg)
    first, second = first_run.ingest, second_run.ingest
    assert second_run.teacher.reused and second_run.teacher.teacher == first_run.teacher.teacher
    first_speech, second_speech = first_run.synthetic, second_run.synthetic
    assert second_speech.speech.reused and second_speech.gate.reused and second_speech.gate.gated == first_speech.gate.gated
    assert first_speech.gate.rows_passed + first_speech.gate.rows_failed == 3
    assert second_speech.codes.reused and second_speech.codes.codes == first_speech.codes.codes
    assert not first.reused and second.reused and second.corpus == first.corpus
    assert_prefect_artifacts(first.corpus.fingerprint)

    listed = runner.invoke(app, ["artifacts", "list", "--store", store_uri])
    assert listed.exit_code == 0, listed.output
    assert "corpus" in listed.output and first.corpus.fingerprint in listed.output

    shown = runner.invoke(app, ["artifacts", "show", f"corpus@{first.corpus.fingerprint[:8]}", "--store", store_uri])
    assert shown.exit_code == 0, shown.output
    assert '"flow_run_id"' in shown.output and "text: string" in shown.output

    lineage = runner.invoke(app, ["lineage", "corpus", "--store", store_uri, "--json"])
    assert lineage.exit_code == 0, lineage.output
    tree = json.loads(lineage.output)
    assert tree["upstream"]["fingerprint"] == first.corpus.fingerprint
    # downstream: the tokenizer (whose dependent is the teacher), the teacher, and the Stage I text
    # selection, whose speech's dependents are the gate's outputs
    down = {d["name"]: sorted(c["name"] for c in d["children"]) for d in tree["downstream"]}
    assert down["tokenizer"] == ["teacher"] and down["teacher"] == []
    assert "stage1_speech" in down["stage1_texts"]
    up = json.loads(runner.invoke(app, ["lineage", "teacher", "--store", store_uri, "--json"]).output)["upstream"]
    assert sorted(c["name"] for c in up["children"]) == ["corpus", "tokenizer"]


def assert_prefect_artifacts(fingerprint: str) -> None:
    """What the Prefect UI shows: the newest corpus summary under its key, and the lineage overview."""
    from prefect.artifacts import Artifact

    corpus = Artifact.get("salad-corpus")
    assert corpus is not None and fingerprint in corpus.data and "Reused" in corpus.data  # the second run's
    lineage = Artifact.get("salad-lineage")
    assert lineage is not None and "flowchart LR" in lineage.data and f"corpus@{fingerprint}" in lineage.data


def test_cli_errors_are_clear(store_uri):
    missing = runner.invoke(app, ["artifacts", "show", "nothing", "--store", store_uri])
    assert missing.exit_code == 1 and "no committed versions of 'nothing'" in missing.output
    bad = runner.invoke(app, ["config", "show", "--preset", "nope"])
    assert bad.exit_code != 0 and "unknown preset 'nope'" in bad.output


def test_presets_and_overrides():
    cfg = load_config("tiny", ["ingest.limit=10", "ingest.languages=[en, de]"])
    assert (cfg.preset, cfg.ingest.limit, cfg.ingest.languages) == ("tiny", 10, ["en", "de"])
    for preset in ("3b", "7b"):
        assert load_config(preset).ingest.source == "fineweb"
    with pytest.raises(ValueError, match="dotted.key=value"):
        load_config("tiny", ["ingest.limit"])
    with pytest.raises(ValueError, match="needs ingest.paths"):
        load_config("tiny", ["ingest.source=fineweb"])
