"""Sharded stages on a pool of Ray actors (one local Ray node): the artifact is the one the
in-process run writes — same fingerprint, same shard bytes — also when a shard hangs and is retried.

The multi-node faults (a node lost mid-shard, a local store refused) are in test_multinode_ray_stage.py.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from pathlib import Path

import pytest
import torch

from salad_core.corpus.ingest_config import IngestConfig
from salad_core.embedding.config import EmbedConfig
from salad_core.mimi import MimiConfig
from salad_core.ray_config import RayActorsConfig, RayStageConfig
from salad_core.speech_sources import SpeechSourceConfig
from storage import ArtifactStore
from tasks.embed import embed_corpus, embed_spec
from tasks.ingest import ingest_corpus
from tasks.ray_pool import ray_session
from tasks.ray_stage import WORKER_HOLD_ENV
from tasks.speech_ingest import ingest_speech
from tasks.tokenize import tokenize_speech
from tasks.tokenize_config import TokenizeConfig

# Mimi's codes depend on the CPU thread count (sums in another order flip a near-tie code now and
# then); in-process runs here on 1 thread, as each actor at num_cpus_per_actor=1 does.
torch.set_num_threads(1)
EMBED = EmbedConfig(batch_size=16, max_tokens=64)
TWO_ACTORS = RayStageConfig(n_actors=2, num_cpus_per_actor=1)
CORPUS = IngestConfig(bundled_docs=48, shard_rows=12)  # 4 shards


@pytest.fixture(scope="module")
def local_ray():
    import ray

    ray.init(address="local", num_cpus=2, object_store_memory=100 * 1024**2, include_dashboard=False, logging_level=logging.WARNING)
    yield
    ray.shutdown()


def shard_digests(store: ArtifactStore, ref) -> list[tuple[int, str]]:
    """What the commit records say of each shard: its rows and the sha256 of its bytes."""
    return [(s.rows, s.sha256) for s in store.get(ref).manifest.shards]


def data_files(store: ArtifactStore, ref) -> list[str]:
    return sorted(store.objects.glob(f"{ref.name}/{ref.fingerprint}/data/*"))


def corpus_in(tmp_path, name: str):
    store = ArtifactStore.open(str(tmp_path / name))
    return store, ingest_corpus.fn(CORPUS, store.objects.config).corpus


def computed_in_process(store: ArtifactStore, *refs) -> list[list[tuple[int, str]]]:
    """The shard digests of versions computed in-process, then moved aside so the same store computes them again."""
    digests = [shard_digests(store, ref) for ref in refs]
    for ref in refs:
        store.move_aside(ref.name, ref.fingerprint, ["computed in-process; the test computes it again on Ray"])
    return digests


def test_ray_settings_are_not_in_the_fingerprint(tmp_path):
    _, corpus = corpus_in(tmp_path, "store")
    on_ray = EMBED.model_copy(update={"ray": RayStageConfig(address="auto", n_actors=8, num_gpus_per_actor=0.5)})
    assert embed_spec(corpus, on_ray).fingerprint == embed_spec(corpus, EMBED).fingerprint
    assert TokenizeConfig(ray=TWO_ACTORS).content_params() == TokenizeConfig().content_params()


def test_a_local_ray_is_our_own_even_when_another_cluster_is_recorded(monkeypatch):
    """`ray.init()` alone joins the newest cluster recorded in <ray temp>/ray_current_cluster: a
    `make demo` run beside the test suite found the suite's cluster there and failed ("When connecting
    to an existing cluster, num_cpus and num_gpus must not be provided"). `address: None` starts our own."""
    import ray

    assert not ray.is_initialized()
    temp = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))  # short: Ray's socket paths must fit in 107 bytes
    try:
        (temp / "ray").mkdir()
        (temp / "ray" / "ray_current_cluster").write_text("127.0.0.1:9\n")  # another job's cluster (here: nobody)
        monkeypatch.setenv("RAY_TMPDIR", str(temp))
        with ray_session(RayActorsConfig(local_num_cpus=1)) as started:
            assert started and ray.cluster_resources()["CPU"] == 1  # ours: the one CPU we asked for
        assert not ray.is_initialized()
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def test_embedding_on_two_actors_writes_the_in_process_artifact_even_when_a_shard_hangs(local_ray, tmp_path, monkeypatch):
    pool, corpus = corpus_in(tmp_path, "store")
    expected = embed_corpus.fn(corpus, EMBED, pool.objects.config).embeddings
    [digests] = computed_in_process(pool, expected)
    hold, signal = tmp_path / "hold.json", tmp_path / "held"
    hold.write_text(json.dumps({"artifact": "embeddings", "shard": 2, "signal": str(signal)}))
    monkeypatch.setenv(WORKER_HOLD_ENV, str(hold))  # the first actor to compute shard 2 never returns
    on_ray = EMBED.model_copy(update={"ray": TWO_ACTORS.model_copy(update={"max_in_flight_per_actor": 1, "call_timeout_s": 15})})
    got = embed_corpus.fn(corpus, on_ray, pool.objects.config).embeddings
    assert signal.exists()  # shard 2 really hung once: computed, not committed, its actor killed
    assert got.fingerprint == expected.fingerprint
    assert shard_digests(pool, got) == digests  # byte-identical shards, in order
    assert len(digests) == 4 and len(data_files(pool, got)) == 4  # one file a shard, no leftovers
    stats = pool.get(got).manifest.stats
    assert stats["ray"]["calls_timed_out"] >= 1 and stats["ray"]["shards_retried"] >= 1 and stats["ray"]["n_actors"] == 2
    assert stats["shards_written_this_run"] == 4 and stats["dim"] == 384  # the actors' own stats reach the manifest
    # an unchanged rerun on Ray is a reuse: no actor is started
    again = embed_corpus.fn(corpus, on_ray, pool.objects.config)
    assert again.reused and again.embeddings == got


def test_mimi_tokenization_on_two_actors_writes_the_in_process_artifact(local_ray, tmp_path, shared_data):
    config = TokenizeConfig(mimi=MimiConfig(weights="random"), calibration_seconds=3.0)
    speech = SpeechSourceConfig(folder=str(shared_data / "real_speech"), shard_rows=4, max_seconds=1.5, allow_empty_text=True, limit=8)
    pool = ArtifactStore.open(str(tmp_path / "store"))
    utterances = ingest_speech.fn(speech, pool.objects.config).utterances
    expected = tokenize_speech.fn(utterances, config, pool.objects.config)
    codes, quarantine = computed_in_process(pool, expected.codes, expected.quarantine)
    got = tokenize_speech.fn(utterances, config.model_copy(update={"ray": TWO_ACTORS}), pool.objects.config)
    assert got.weights == expected.weights  # the actors load the weights fitted in-process, from the store
    assert got.codes.fingerprint == expected.codes.fingerprint and got.quarantine.fingerprint == expected.quarantine.fingerprint
    assert shard_digests(pool, got.codes) == codes
    assert shard_digests(pool, got.quarantine) == quarantine  # per shard, as in-process
    assert got.shards_written == [0, 1]
    assert pool.get(got.codes).manifest.stats["rows_this_run"] == 8  # summed over the actors
