"""The what-changed report of a data regeneration: reused versions, new versions and why, from the store alone."""

from __future__ import annotations

import re
import time

import pyarrow as pa
import pytest
from pydantic import BaseModel

from deployments.what_changed import (
    collect_refs,
    now_utc,
    params_hash,
    previous_record,
    save_run_record,
    what_changed,
    with_upstream,
    wrappable,
)
from storage import ArtifactRef, ArtifactStore, StageSpec


def commit(store: ArtifactStore, name: str, params: dict, parents: list[ArtifactRef] = (), code: str = "v1") -> ArtifactRef:
    spec = StageSpec(name=name, params=params, code_version=code, parents=list(parents))
    writer = store.writer(spec)
    writer.write_shard(0, pa.table({"x": [1, 2, 3]}))
    return store.commit(writer, 1)


def snapshot(*files: tuple[str, int]) -> dict:
    return {"inputs": [{"url": f"s3://fineweb/{name}", "size": size, "etag": f"e{size}"} for name, size in files]}


@pytest.fixture
def store(tmp_path) -> ArtifactStore:
    return ArtifactStore.open(str(tmp_path / "store"))


def regenerate(store: ArtifactStore, refs: list[ArtifactRef], started_at: str | None = None, run: str = "r", lane: str = "nightly", params: dict | None = None):
    report = what_changed(store, lane, {r.name: r for r in refs}, started_at or now_utc(), flow_run_id=run, params=params)
    save_run_record(store, report.record)
    return report


def test_first_run_then_unchanged_then_a_new_snapshot(store):
    corpus = commit(store, "corpus", snapshot(("a.parquet", 10)))
    tokenizer = commit(store, "tokenizer", {"vocab": 1000}, [corpus])
    first = regenerate(store, [corpus, tokenizer], run="run-1")
    assert first.previous is None and [c.status for c in first.changes] == ["new artifact", "new artifact"]
    assert "No earlier regeneration" in first.markdown()

    second = regenerate(store, [corpus, tokenizer], run="run-2")
    assert second.previous.flow_run_id == "run-1"
    assert [(c.name, c.status) for c in second.changes] == [("corpus", "unchanged"), ("tokenizer", "unchanged")]
    assert "unchanged (reused, nothing recomputed)" in second.markdown() and "2 unchanged" in second.summary()

    started = now_utc()
    time.sleep(0.01)
    new_corpus = commit(store, "corpus", snapshot(("a.parquet", 10), ("b.parquet", 20)))
    new_tokenizer = commit(store, "tokenizer", {"vocab": 1000}, [new_corpus])
    third = regenerate(store, [new_corpus, new_tokenizer], started_at=started, run="run-3")
    assert third.previous.flow_run_id == "run-2"
    changes = {c.name: c for c in third.changes}
    assert changes["corpus"].status == "new version" and changes["corpus"].built_now
    assert (changes["corpus"].old, changes["corpus"].new) == (corpus.fingerprint, new_corpus.fingerprint)
    assert changes["corpus"].reasons == ["parameter `inputs`: 1 → 2 file(s): 1 added (b.parquet)"]
    assert changes["tokenizer"].reasons == [f"input `corpus`: `{corpus.fingerprint[:12]}` → `{new_corpus.fingerprint[:12]}`"]
    table = third.markdown(ui_url="http://ui:4200/")
    assert f"| [corpus](http://ui:4200/artifacts/key/salad-corpus) | new version | `{corpus.fingerprint[:12]}` | `{new_corpus.fingerprint[:12]}` |" in table
    assert "flow run [run-2](http://ui:4200/runs/flow-run/run-2)" in table


def test_code_models_changed_files_and_artifacts_no_longer_made(store):
    teacher = commit(store, "teacher", {"steps": 5, **snapshot(("a.parquet", 10))}, code="t1")
    quarantine = commit(store, "quarantine", {})
    regenerate(store, [teacher, quarantine], run="run-1")
    spec = StageSpec(name="teacher", params={"steps": 6, **snapshot(("a.parquet", 11))}, code_version="t2", models={"base": "qwen@rev2"})
    writer = store.writer(spec)
    writer.write_shard(0, pa.table({"x": [1]}))
    new_teacher = store.commit(writer, 1)
    report = regenerate(store, [new_teacher], started_at="2000-01-01T00:00:00+00:00", run="run-2")
    changes = {c.name: c for c in report.changes}
    assert changes["teacher"].reasons == [
        "parameter `inputs`: 1 → 1 file(s): 1 changed (a.parquet)",
        "parameter `steps`: `5` → `6`",
        "code: `t1` → `t2`",
        "model `base`: (absent) → `qwen@rev2`",
    ]
    assert changes["quarantine"].status == "not produced"


def test_an_older_version_picked_up_again_is_not_called_built(store):
    old = commit(store, "corpus", {"seed": 0})
    new = commit(store, "corpus", {"seed": 1})
    regenerate(store, [new], run="run-1")
    report = regenerate(store, [old], run="run-2")  # back to seed 0: reused, not rebuilt
    [change] = report.changes
    assert change.status == "new version" and not change.built_now
    assert "(existing version reused)" in report.markdown()


def test_run_records_are_immutable_and_the_latest_is_previous(store):
    corpus = commit(store, "corpus", {})
    report = regenerate(store, [corpus], run="run-1")
    assert save_run_record(store, report.record) == save_run_record(store, report.record)  # a retried finish: no error
    assert previous_record(store, "nightly") == report.record
    assert previous_record(store, "other lane") is None
    assert store.names() == ["corpus"] and store.gc(grace_seconds=0) == []  # records are invisible to the store


def test_collect_refs_walks_nested_outputs():
    a, b, c = (ArtifactRef(name=n, fingerprint=n * 4) for n in "abc")

    class Stage(BaseModel):
        out: ArtifactRef
        extra: list[ArtifactRef]
        score: float = 1.0

    class Outputs(BaseModel):
        first: Stage
        second: dict[str, ArtifactRef]

    refs = collect_refs(Outputs(first=Stage(out=a, extra=[b]), second={"x": c}))
    assert refs == {"a": a, "b": b, "c": c}


def test_intermediate_artifacts_come_from_the_lineage(store):
    corpus = commit(store, "corpus", {})
    tokenizer = commit(store, "tokenizer", {}, [corpus])
    teacher = commit(store, "teacher", {}, [corpus, tokenizer])
    assert with_upstream(store, {"teacher": teacher}) == {
        "corpus": ArtifactRef(name="corpus", fingerprint=corpus.fingerprint),
        "teacher": teacher,
        "tokenizer": ArtifactRef(name="tokenizer", fingerprint=tokenizer.fingerprint),
    }


def test_a_custom_run_does_not_become_the_crons_baseline(store):
    cron, custom = {"config": {"ingest": {"limit": 500}}}, {"config": {"ingest": {"limit": 20}}}
    corpus = commit(store, "corpus", {"limit": 500})
    regenerate(store, [corpus], run="cron-1", lane="regenerate", params=cron)
    small = commit(store, "corpus", {"limit": 20})
    manual = regenerate(store, [small], run="manual-1", lane="regenerate", params=custom)
    assert manual.previous is None and "No earlier regeneration of `regenerate` with the same parameters" in manual.markdown()

    again = regenerate(store, [corpus], run="cron-2", lane="regenerate", params=cron)
    assert again.previous.flow_run_id == "cron-1" and [c.status for c in again.changes] == ["unchanged"]
    assert again.record.params_hash == params_hash(cron) != params_hash(custom)
    assert f"with the same parameters (`{params_hash(cron)}`)" in again.markdown()
    assert previous_record(store, "regenerate", params_hash(custom)).flow_run_id == "manual-1"
    assert previous_record(store, "other", params_hash(cron)) is None
    assert params_hash({"b": 1, "a": {"y": 2, "x": 1}}) == params_hash({"a": {"x": 1, "y": 2}, "b": 1})


def test_the_why_column_stays_narrow_and_the_reasons_follow_in_full(store):
    long_code = "embed-3+" + "0123456789abcdef" * 4
    old = commit(store, "embeddings", {"model": {"path": "/models/" + "x" * 70 + "/bge-large-en-v1.5"}}, code="embed-2")
    regenerate(store, [old], run="run-1")
    new = commit(store, "embeddings", {"model": {"path": "/models/y/bge-large-en-v1.5"}}, code=long_code)
    report = regenerate(store, [new], run="run-2")
    lines = report.markdown(ui_url="").splitlines()
    [row] = [line for line in lines if line.startswith("| [embeddings]")]
    assert row.split(" | ")[-1] == "parameter model<br>code |"  # the Prefect UI does not wrap table cells
    full = lines[lines.index("**Why, in full**") + 2 :]
    assert full[0] == "- **embeddings**" and len(full) == 3
    assert all("`" not in line for line in full)  # plain text: code spans do not wrap
    assert max(len(w) for line in full for w in re.split(r"[\s\u200b]", line)) <= 24  # every long run can break
    assert [line[4:].replace("\u200b", "") for line in full[1:]] == [r.replace("`", "") for r in report.changes[0].reasons]
    assert wrappable("a|b") == "a\\|b"
    assert "(/artifacts/key/salad-embeddings)" in report.markdown(ui_url="")  # relative to the UI that shows it


def test_in_a_flow_run_the_parameters_come_from_the_run(store, prefect_harness):
    from prefect import flow

    corpus = commit(store, "corpus", {})

    @flow
    def regen(limit: int) -> str | None:
        report = what_changed(store, "regenerate", {"corpus": corpus}, now_utc(), flow_run_id="x")
        save_run_record(store, report.record)
        return report.record.params_hash

    assert regen(5) == params_hash({"limit": 5}) and regen(7) == params_hash({"limit": 7})
    assert previous_record(store, "regenerate", params_hash({"limit": 5})) is not None
