"""The asset catalog: newest version per artifact, and stale when a parent moved on."""

from __future__ import annotations

import time

import pyarrow as pa
import pytest

from storage import ArtifactRef, ArtifactStore, StageSpec
from storage.catalog import catalog


def commit(store: ArtifactStore, name: str, params: dict, parents: list[ArtifactRef] = (), rows: int = 3) -> ArtifactRef:
    time.sleep(0.002)  # created_at has millisecond resolution: keep commit order unambiguous
    writer = store.writer(StageSpec(name=name, params=params, code_version="v1", parents=list(parents)), {"flow_run_id": "f-1", "flow_run_name": "brave-otter"})
    writer.write_shard(0, pa.table({"x": list(range(rows))}))
    return store.commit(writer, 1)


@pytest.fixture
def store(tmp_path) -> ArtifactStore:
    return ArtifactStore.open(str(tmp_path / "store"))


def entries(store: ArtifactStore) -> dict:
    return {e.name: e for e in catalog(store.all_manifests())}


def test_children_of_the_newest_parent_are_not_stale(store):
    corpus = commit(store, "corpus", {"k": 1}, rows=5)
    embeddings = commit(store, "embeddings", {}, [corpus])
    commit(store, "centroids", {"k": 8}, [embeddings])
    found = entries(store)
    assert [e.stale for e in found.values()] == [False, False, False]
    assert found["corpus"].num_rows == 5 and found["corpus"].versions == 1 and found["corpus"].num_bytes > 0
    assert (found["embeddings"].flow_run, found["embeddings"].flow_run_id) == ("brave-otter", "f-1") and found[
        "embeddings"
    ].fingerprint == embeddings.fingerprint


def test_a_newer_parent_version_makes_the_child_and_its_descendants_stale(store):
    corpus = commit(store, "corpus", {"k": 1})
    embeddings = commit(store, "embeddings", {}, [corpus])
    centroids = commit(store, "centroids", {"k": 8}, [embeddings])
    new_corpus = commit(store, "corpus", {"k": 2})
    found = entries(store)
    assert found["corpus"].fingerprint == new_corpus.fingerprint and found["corpus"].versions == 2 and not found["corpus"].stale
    assert found["embeddings"].stale and found["embeddings"].why_stale == [
        f"parent corpus: built from {corpus.fingerprint[:12]}, newer {new_corpus.fingerprint[:12]} ({found['corpus'].created_at[:19]})"
    ]
    assert found["centroids"].stale and found["centroids"].why_stale == [f"parent embeddings@{embeddings.fingerprint[:12]} is stale"]

    commit(store, "embeddings", {}, [new_corpus])  # the downstream catches up, one stage at a time
    found = entries(store)
    assert not found["embeddings"].stale and found["embeddings"].versions == 2
    assert found["centroids"].stale and found["centroids"].fingerprint == centroids.fingerprint
    assert found["centroids"].why_stale[0].startswith("parent embeddings: built from")


def test_versions_that_coexist_by_design_do_not_make_each_other_stale(store):
    data = commit(store, "codes", {})
    pre_decay = commit(store, "checkpoint", {"kind": "pre_decay"}, [data])
    misalignment = commit(store, "misalignment", {}, [pre_decay])
    commit(store, "checkpoint", {"kind": "final"}, [data])  # Stage I's final, committed after the pre-decay one
    stage2 = commit(store, "checkpoint", {"kind": "final"}, [data, pre_decay, misalignment])
    found = catalog(store.all_manifests())
    assert not any(e.stale for e in found), [(e.name, e.why_stale) for e in found]
    roles = sorted((e.name, e.role) for e in found if e.name == "checkpoint")
    assert roles == [("checkpoint", "final"), ("checkpoint", "final, also from checkpoint +1"), ("checkpoint", "pre_decay")]
    assert next(e for e in found if "also from" in e.role).fingerprint == stage2.fingerprint

    commit(store, "checkpoint", {"kind": "pre_decay", "lr": 2}, [data])  # the pre-decay slot moves on
    stale = {(e.name, e.role): e.why_stale for e in catalog(store.all_manifests()) if e.stale}
    assert set(stale) == {("misalignment", ""), ("checkpoint", "final, also from checkpoint +1")}
    assert stale[("misalignment", "")][0].startswith(f"parent checkpoint: built from {pre_decay.fingerprint[:12]}")


def test_the_cli_lists_the_catalog_and_only_the_stale_on_request(store):
    import json

    from typer.testing import CliRunner

    from deployments.catalog_cli import app

    corpus = commit(store, "corpus", {"k": 1})
    commit(store, "embeddings", {}, [corpus])
    commit(store, "corpus", {"k": 2})
    every = CliRunner().invoke(app, ["--store", store.uri])
    assert every.exit_code == 0 and "2 artifact(s)" in every.output and "1 stale" in every.output and "STALE" in every.output
    only = CliRunner().invoke(app, ["--store", store.uri, "--only-stale", "--json"])
    rows = [json.loads(line) for line in only.output.splitlines()]
    assert [(r["artifact"], r["stale"]) for r in rows] == [("embeddings", "STALE")] and rows[0]["why stale"].startswith("parent corpus")


def test_a_stage_whose_code_changed_since_is_stale_and_so_is_what_it_fed(store):
    corpus = commit(store, "corpus", {"k": 1})  # code_version "v1": label "v1"
    commit(store, "embeddings", {}, [corpus])
    assert not any(e.stale for e in catalog(store.all_manifests(), {"v1": "v1"}))
    found = {e.name: e for e in catalog(store.all_manifests(), {"v1": "v1+edited"})}
    assert found["corpus"].why_stale == ["code changed: built with v1, the stage is now v1+edited"]
    assert found["embeddings"].stale  # its own code changed too (same label here), and its parent is stale
    assert f"parent corpus@{corpus.fingerprint[:12]} is stale" in found["embeddings"].why_stale
    assert not any(e.stale for e in catalog(store.all_manifests(), {"other-1": "other-1+x"}))  # unknown labels say nothing


def test_the_current_code_versions_name_every_stage():
    from storage.catalog import code_label
    from tasks.code_versions import current_code_versions
    from tasks.tokenize import TOKENIZE_CODE_VERSION

    versions = current_code_versions()
    assert {"ingest-2", "embed-2", "cluster-2", "speech-2", "quality-gate-2", "tokenize-2", "train-2", "select-2", "eval-results-3", "misalignment-3"} <= set(
        versions
    )
    assert versions[code_label(TOKENIZE_CODE_VERSION)] == TOKENIZE_CODE_VERSION
