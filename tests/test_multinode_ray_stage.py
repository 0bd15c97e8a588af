"""A sharded stage on a simulated multi-node Ray cluster (ray.cluster_utils: a head with no CPUs
for actors and three 1-CPU worker nodes, all on this machine) with the store on the moto S3 server.

A worker node is killed (raylet and workers, not gracefully) while its actor holds a computed,
uncommitted shard: the shard is computed again on another node and the committed artifact is the
one an undisturbed run writes, shard for shard, byte for byte, one data file per shard.
"""

from __future__ import annotations

import json
import logging
import threading
import time

import pytest

from salad_core.ray_config import RayStageConfig
from storage import ArtifactStore
from tasks.embed import embed_corpus
from tasks.ingest import ingest_corpus
from tasks.ray_stage import WORKER_HOLD_ENV, worker_store_config
from tests.conftest import s3_store_config
from tests.test_ray_stage import CORPUS, EMBED, computed_in_process, data_files, shard_digests

MB = 1024**2
FAST_NODE_DEATH = {"health_check_initial_delay_ms": 0, "health_check_period_ms": 1000, "health_check_failure_threshold": 3}


@pytest.fixture(scope="module")
def cluster():
    import ray
    from ray.cluster_utils import Cluster

    head = {"num_cpus": 0, "object_store_memory": 75 * MB, "include_dashboard": False, "_system_config": FAST_NODE_DEATH}
    cluster = Cluster(initialize_head=True, head_node_args=head)
    for _ in range(3):
        cluster.add_node(num_cpus=1, object_store_memory=75 * MB)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, logging_level=logging.WARNING)
    yield cluster
    ray.shutdown()
    cluster.shutdown()


def test_a_local_folder_store_is_refused_on_a_cluster(cluster, tmp_path):
    store = ArtifactStore.open(str(tmp_path / "store"))
    corpus = ingest_corpus.fn(CORPUS, store.objects.config).corpus
    on_ray = EMBED.model_copy(update={"ray": RayStageConfig(n_actors=2)})
    with pytest.raises(ValueError, match=r"is a local folder but the Ray cluster has 4 nodes: the workers write their shards themselves"):
        embed_corpus.fn(corpus, on_ray, store.objects.config)
    assert "embeddings" not in store.names()
    # the user's word that every node mounts the path: accepted, made absolute (workers do not share our cwd)
    shared = worker_store_config(store.objects.config.model_copy(update={"uri": "relative/store"}), RayStageConfig(shared_filesystem=True))
    assert shared.uri.startswith("/") and shared.uri.endswith("/relative/store")


def test_a_node_lost_mid_shard_loses_and_duplicates_nothing(cluster, moto_endpoint, tmp_path, monkeypatch):
    import ray

    store = ArtifactStore.open(s3_store_config(moto_endpoint))
    config = store.objects.config
    corpus = ingest_corpus.fn(CORPUS, config).corpus
    undisturbed = embed_corpus.fn(corpus, EMBED, config).embeddings
    [digests] = computed_in_process(store, undisturbed)

    hold, signal = tmp_path / "hold.json", tmp_path / "held"
    hold.write_text(json.dumps({"artifact": "embeddings", "shard": 1, "signal": str(signal)}))
    monkeypatch.setenv(WORKER_HOLD_ENV, str(hold))
    on_ray = EMBED.model_copy(update={"ray": RayStageConfig(n_actors=2, num_cpus_per_actor=1, max_in_flight_per_actor=1, call_timeout_s=300)})
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["ref"] = embed_corpus.fn(corpus, on_ray, config).embeddings
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome["error"] = exc

    driver = threading.Thread(target=run, daemon=True)
    driver.start()
    deadline = time.monotonic() + 240
    while not signal.exists() and driver.is_alive() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert signal.exists(), f"no worker reached the hold point: {outcome}"
    held_on = json.loads(signal.read_text())["node"]
    [victim] = [node for node in cluster.worker_nodes if node.node_id == held_on]
    cluster.remove_node(victim, allow_graceful=False)  # its raylet and every worker on it, shard 1 uncommitted

    driver.join(timeout=300)
    assert not driver.is_alive() and "error" not in outcome, outcome.get("error")
    got = outcome["ref"]
    assert held_on not in {n["NodeID"] for n in ray.nodes() if n["Alive"]}
    assert got.fingerprint == undisturbed.fingerprint
    assert shard_digests(store, got) == digests  # nothing lost, nothing changed
    assert len(data_files(store, got)) == len(digests) == 4  # nothing duplicated: one data file a shard
    assert store.get(got).to_table().num_rows == store.get(corpus).manifest.num_rows
