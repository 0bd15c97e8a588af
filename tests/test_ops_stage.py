"""One stage on given parent versions (flows/stage_flow.py): what the "stage" deployment runs from the UI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from deployments.registry import build_deployments
from flows.config import load_config
from flows.stage_flow import STAGES, stage_flow
from storage import ArtifactStore

SMALL = ["ingest.bundled_docs=300", "embed.max_tokens=16", "embed.batch_size=128", "cluster.k=4"]


def test_cluster_reruns_with_another_k_on_the_existing_corpus_and_embeddings(prefect_harness, tmp_path):
    cfg = load_config("tiny", [f"store.uri={tmp_path}/store", *SMALL])
    corpus = stage_flow("ingest", {}, cfg).outputs["corpus"]
    embeddings = stage_flow("embed", {}, cfg).outputs["embeddings"]
    first = stage_flow("cluster", {}, cfg)  # parents left out: the newest versions
    assert {n: r.fingerprint for n, r in first.parents.items()} == {"corpus": corpus["fingerprint"], "embeddings": embeddings["fingerprint"]}

    k6 = load_config("tiny", [f"store.uri={tmp_path}/store", *SMALL, "cluster.k=6"])
    given = {"corpus": f"corpus@{corpus['fingerprint'][:8]}", "embeddings": f"embeddings@{embeddings['fingerprint'][:8]}"}
    second = stage_flow("cluster", given, k6)
    store = ArtifactStore.open(k6.store)
    assert not second.outputs["reused"] and second.outputs["centroids"] != first.outputs["centroids"]
    assert len(store.versions("centroids")) == 2 and len(store.versions("corpus")) == 1  # nothing upstream redone
    centroids = store.get(f"centroids@{second.outputs['centroids']['fingerprint']}")
    assert centroids.num_rows == 6 and store.get(f"centroids@{first.outputs['centroids']['fingerprint']}").num_rows == 4
    assert [p.fingerprint for p in centroids.manifest.parents] == [embeddings["fingerprint"]]
    assert stage_flow("cluster", given, k6).outputs["reused"]  # the same K again: reused

    # the same from the shell: salad stage
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
    args = ["stage", "cluster", "--parent", given["corpus"], "--store", str(tmp_path / "store"), *[a for o in SMALL for a in ("--set", o)]]
    done = subprocess.run(
        [sys.executable, "-c", "from deployments.cli import main; main()", *args, "--set", "cluster.k=5"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert done.returncode == 0, done.stderr
    made = json.loads(done.stdout[done.stdout.index("{") :])
    assert made["stage"] == "cluster" and store.get(f"centroids@{made['outputs']['centroids']['fingerprint']}").num_rows == 5

    with pytest.raises(ValueError, match=r"stage cluster takes parents \['corpus', 'embeddings'\], not \['teacher'\]"):
        stage_flow("cluster", {"teacher": "teacher"}, k6)
    with pytest.raises(ValueError, match="stage teacher needs tokenizer"):
        stage_flow("teacher", {}, k6)


def test_the_stage_deployment_form_offers_every_stage():
    [deployment] = [d for d in build_deployments(load_config("tiny")) if d.name == "stage"]
    schema = deployment._parameter_openapi_schema.model_dump()
    assert set(schema["properties"]) == {"stage", "parents", "config"}
    assert schema["definitions"]["StageName"]["enum"] == list(STAGES)
    assert deployment.parameters["config"]["cluster"]["k"] == load_config("tiny").cluster.k


def test_a_second_run_on_the_same_store_waits_for_the_first_and_says_so(prefect_harness, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName, LogFilter, LogFilterFlowRunId

    from flows.store_lock import store_lock, store_lock_name

    cfg = load_config("tiny", [f"store.uri={tmp_path}/store", *SMALL])
    other = load_config("tiny", [f"store.uri={tmp_path}/other-store", *SMALL])
    assert store_lock_name(cfg.store) != store_lock_name(other.store)
    done: list = []
    with store_lock(cfg.store):  # what a running regeneration holds
        assert stage_flow("ingest", {}, other).outputs["corpus"]  # another store: not held up
        second = threading.Thread(target=lambda: done.append(stage_flow.with_options(flow_run_name="second-on-held-store")("ingest", {}, cfg)))
        second.start()
        time.sleep(8)
        assert second.is_alive() and not done and ArtifactStore.open(cfg.store).names() == []  # waiting, nothing written
    second.join(timeout=120)
    assert done and done[0].outputs["corpus"]

    with get_client(sync_client=True) as client:
        [run] = client.read_flow_runs(flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=["second-on-held-store"])))
        logs = [entry.message for entry in client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id])))]
    assert any(f"store {tmp_path}/store is in use by another run" in m and "waiting for it to end" in m for m in logs), logs


def test_a_regeneration_says_first_what_the_store_already_holds(prefect_harness, tmp_path):
    from deployments.regenerate import reuse_outlook

    cfg = load_config("tiny", [f"store.uri={tmp_path}/store", *SMALL])
    assert "already holds 0 of the 4 versions this run's first stages need (none)" in reuse_outlook(cfg)
    stage_flow("ingest", {}, cfg)
    stage_flow("embed", {}, cfg)
    line = reuse_outlook(cfg)
    assert line.startswith(f"store {tmp_path}/store already holds 2 of the 4 versions this run's first stages need (corpus, embeddings)"), line
    assert "0 of the 4" in reuse_outlook(load_config("tiny", [f"store.uri={tmp_path}/store", *SMALL, "ingest.bundled_docs=301"]))
