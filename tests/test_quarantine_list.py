"""`salad quarantine list`: every stage's quarantine in the one record shape, read by one query.

Run: HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/test_quarantine_list.py -q
"""

from __future__ import annotations

import json

import pyarrow as pa
from typer.testing import CliRunner

from deployments.cli import app
from deployments.quarantine_cli import quarantine_records
from salad_core.corpus.ingest_config import IngestConfig
from salad_core.evaluation.items import Rejected, rejected_to_table
from salad_core.records.quarantine import CORE_NAMES
from storage import StageSpec
from tasks.ingest import ingest_corpus
from tasks.sharded_stage import write_table_artifact
from tests.fineweb_files import real_rows, write_fineweb


def test_every_quarantine_reads_as_one_record_with_its_stage(tmp_path, local_store, shared_data):
    rows = real_rows(shared_data)[:12]
    rows[3]["text"] = "\x1b[31mWarning\x1b[0m " + rows[3]["text"]
    rows[5]["id"] = rows[4]["id"]  # a duplicate id
    path = write_fineweb(tmp_path / "in" / "000.parquet", rows)
    out = ingest_corpus.fn(IngestConfig(source="fineweb", paths=[str(path)]), local_store.objects.config)
    corpus_q = local_store.get(out.quarantine).to_table()
    assert corpus_q.column_names[:5] == CORE_NAMES and "text" in corpus_q.column_names  # the whole row is kept for re-ingest
    table = rejected_to_table([Rejected(benchmark="arc", source="arc.jsonl:7", id="q7", reason="answer out of range: 9", row={"q": "x"})])
    write_table_artifact(local_store, StageSpec(name="eval_items_arc_quarantine", code_version="t"), table)
    # a version written before the shared shape: mapped into it, stage from its name
    legacy = pa.table({"id": ["u1"], "source": ["folder"], "reason": ["0.020 s long (minimum 0.5 s)"]})
    write_table_artifact(local_store, StageSpec(name="utterances_quarantine", code_version="old"), legacy)

    records = quarantine_records(local_store)
    by_stage = {}
    for r in records:
        by_stage.setdefault(r["stage"], []).append(r)
    assert sorted(by_stage) == ["corpus", "eval_items_arc", "utterances"]
    corpus = {r["id"]: r for r in by_stage["corpus"]}
    assert corpus[rows[3]["id"]]["reason"].startswith("text contains control characters")
    assert corpus[rows[3]["id"]]["excerpt"].startswith("\x1b[31mWarning")
    assert corpus[rows[5]["id"]]["reason"].startswith("duplicate id")
    assert by_stage["eval_items_arc"][0]["excerpt"] == '{"q": "x"}' and by_stage["utterances"][0]["excerpt"] == "folder"
    assert all(set(r) == {"artifact", "version", *CORE_NAMES} for r in records)

    result = CliRunner().invoke(app, ["quarantine", "list", "--store", local_store.uri, "--json", "--stage", "corpus"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert {r["id"] for r in lines} == set(corpus) and all(r["stage"] == "corpus" for r in lines)


def test_a_stage_that_quarantines_many_rows_raises_the_alert_event(tmp_path, local_store, shared_data, prefect_harness, caplog, monkeypatch):
    """Above $SALAD_QUARANTINE_ALERT_RATE the stage emits salad.quarantine-rate.exceeded (what the
    automation declared with the deployments notifies on); under it, nothing."""
    import logging

    from prefect import flow

    rows = real_rows(shared_data)[:10]
    for row in rows[:3]:
        row["text"] = "\x1b[31m" + row["text"]
    path = write_fineweb(tmp_path / "in" / "000.parquet", rows)

    @flow
    def ingest_flow(limit: int):
        return ingest_corpus(IngestConfig(source="fineweb", paths=[str(path)], limit=limit), local_store.objects.config)

    monkeypatch.setenv("SALAD_QUARANTINE_ALERT_RATE", "0.2")
    with caplog.at_level(logging.WARNING, logger="salad.alerts"):
        ingest_flow(limit=10)
    [alert] = [r.getMessage() for r in caplog.records if r.name == "salad.alerts"]
    assert alert.startswith("stage corpus quarantined 3 of 10 rows (30.0% > 20.0%)")
    caplog.clear()
    monkeypatch.setenv("SALAD_QUARANTINE_ALERT_RATE", "0.5")
    with caplog.at_level(logging.WARNING, logger="salad.alerts"):
        ingest_flow(limit=9)
    assert not [r for r in caplog.records if r.name == "salad.alerts"]
