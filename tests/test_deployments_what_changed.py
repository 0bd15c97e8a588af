"""The what-changed report of a data regeneration: reused versions, new versions and why, from the store alone."""

from __future__ import annotations

import time

import pyarrow as pa
import pytest
from pydantic import BaseModel

from deployments.what_changed import collect_refs, now_utc, previous_record, save_run_record, what_changed, with_upstream
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


def regenerate(store: ArtifactStore, refs: list[ArtifactRef], started_at: str | None = None, run: str = "r"):
    report = what_changed(store, "nightly", {r.name: r for r in refs}, started_at or now_utc(), flow_run_id=run)
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
    table = third.markdown()
    assert f"| `corpus` | new version | `{corpus.fingerprint[:12]}` | `{new_corpus.fingerprint[:12]}` |" in table


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
