"""Ingest → embed → cluster as stages over the store: purity, resume, reuse, cluster-only reads."""

from __future__ import annotations

import numpy as np
import pyarrow.dataset as ds
import pytest

from salad_core.clustering.config import ClusterConfig
from salad_core.clustering.purity import purity
from salad_core.corpus.bundled import topic_of_url
from salad_core.corpus.ingest_config import IngestConfig
from salad_core.embedding.config import EmbedConfig
from salad_core.embedding.embedder import Embedder
from tasks.cluster import cluster_corpus
from tasks.embed import embed_corpus
from tasks.ingest import ingest_corpus
from tests.fineweb_files import real_rows, write_fineweb

EMBED = EmbedConfig(batch_size=32, max_tokens=128)


@pytest.fixture(scope="module")
def bundled(tmp_path_factory):
    """A 14-topic bundled corpus (~20 docs a topic) embedded once for the module."""
    from storage import ArtifactStore

    store = ArtifactStore.open(str(tmp_path_factory.mktemp("store")))
    cfg = store.objects.config
    corpus = ingest_corpus.fn(IngestConfig(bundled_docs=280, shard_rows=100), cfg).corpus
    embeddings = embed_corpus.fn(corpus, EMBED, cfg)
    return store, corpus, embeddings


def test_clusters_recover_the_bundled_topics(bundled):
    store, corpus, embeddings = bundled
    out = cluster_corpus.fn(corpus, embeddings.embeddings, ClusterConfig(k=14, seed=0), store.objects.config)
    assigned = store.get(out.assignments).to_table()
    urls = dict(zip(*store.get(corpus).to_table(columns=["id", "url"]).to_pydict().values()))
    labels = [topic_of_url(urls[i]) for i in assigned.column("id").to_pylist()]
    score = purity(assigned.column("cluster").to_numpy(), labels)
    print(f"purity on the bundled corpus (k=14): {score:.3f}")
    assert score >= 0.8
    stats = store.get(out.stats).to_table()
    assert stats.num_rows == 14 and abs(sum(stats.column("share").to_pylist()) - 1) < 1e-9
    report = store.get(out.report).to_table().to_pylist()[0]
    assert report["png"][:8] == b"\x89PNG\r\n\x1a\n" and "| cluster" in report["markdown"].lower()


def test_one_cluster_is_read_without_the_others(bundled):
    store, corpus, embeddings = bundled
    out = cluster_corpus.fn(corpus, embeddings.embeddings, ClusterConfig(k=14, seed=0), store.objects.config)
    art = store.get(out.assignments)
    dataset = art.dataset()
    one = dataset.to_table(filter=ds.field("cluster") == 3)
    assert one.num_rows > 0 and set(one.column("cluster").to_pylist()) == {3}
    # row groups hold one cluster each: statistics let a reader skip every other group
    fragment = next(iter(dataset.get_fragments()))
    groups = fragment.split_by_row_group(ds.field("cluster") == 3)
    total = fragment.metadata.num_row_groups
    assert len(groups) == 1 < total


def test_changing_only_k_reuses_embeddings_and_rerun_reuses_all(bundled):
    store, corpus, embeddings = bundled
    cfg = store.objects.config
    again = embed_corpus.fn(corpus, EMBED, cfg)
    assert again.reused and again.embeddings == embeddings.embeddings
    a = cluster_corpus.fn(corpus, embeddings.embeddings, ClusterConfig(k=14, seed=0), cfg)
    b = cluster_corpus.fn(corpus, embeddings.embeddings, ClusterConfig(k=14, seed=0), cfg)
    assert b.reused and b == a
    c = cluster_corpus.fn(corpus, embeddings.embeddings, ClusterConfig(k=7, seed=0), cfg)
    assert c.centroids != a.centroids and not c.reused


def test_clustering_is_deterministic_for_a_seed(bundled, tmp_path):
    from storage import ArtifactStore

    store, corpus, embeddings = bundled
    a = cluster_corpus.fn(corpus, embeddings.embeddings, ClusterConfig(k=14, seed=0), store.objects.config)
    # a fresh fit: the same inputs copied into a new store by re-running the stages there
    other = ArtifactStore.open(str(tmp_path / "other"))
    ocfg = other.objects.config
    ocorpus = ingest_corpus.fn(IngestConfig(bundled_docs=280, shard_rows=100), ocfg).corpus
    oemb = embed_corpus.fn(ocorpus, EMBED, ocfg).embeddings
    b = cluster_corpus.fn(ocorpus, oemb, ClusterConfig(k=14, seed=0), ocfg)
    assert b.assignments.fingerprint == a.assignments.fingerprint
    col = lambda s, r: s.get(r).to_table().column("cluster").to_pylist()  # noqa: E731
    assert col(store, a.assignments) == col(other, b.assignments)


def test_embeddings_are_unit_vectors_with_model_identity(bundled):
    store, _, embeddings = bundled
    art = store.get(embeddings.embeddings)
    vectors = np.stack(art.to_table().column("embedding").to_numpy(zero_copy_only=False))
    assert vectors.shape[1] == 384 and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert art.manifest.models["embedder"].startswith("all-MiniLM-L6-v2@")
    assert [s.rows for s in art.manifest.shards] == [s.rows for s in store.get(art.manifest.parents[0]).manifest.shards]


def test_killed_embedding_resumes_at_the_next_uncommitted_shard(local_store, monkeypatch):
    cfg = local_store.objects.config
    corpus = ingest_corpus.fn(IngestConfig(bundled_docs=90, shard_rows=30, bundled_bad_fraction=0), cfg).corpus
    calls = {"n": 0}
    real_embed = Embedder.embed

    def crashing(self, texts, ids=None):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("killed mid-stage")
        return real_embed(self, texts, ids)

    monkeypatch.setattr(Embedder, "embed", crashing)
    with pytest.raises(RuntimeError, match="killed mid-stage"):
        embed_corpus.fn(corpus, EMBED, cfg)
    monkeypatch.setattr(Embedder, "embed", real_embed)
    embedded: list[int] = []
    monkeypatch.setattr(Embedder, "embed", lambda self, texts, ids=None: embedded.append(len(texts)) or real_embed(self, texts, ids))
    out = embed_corpus.fn(corpus, EMBED, cfg)
    assert embedded == [30]  # only the third shard was embedded again
    assert local_store.get(out.embeddings).num_rows == 90


def test_real_fineweb_rows_go_through_ingest_embed_cluster(tmp_path, local_store, shared_data):
    cfg = local_store.objects.config
    write_fineweb(tmp_path / "fw" / "000_00000.parquet", real_rows(shared_data)[:60], row_group_size=25)
    corpus = ingest_corpus.fn(IngestConfig(source="fineweb", paths=[str(tmp_path / "fw" / "*.parquet")], shard_rows=25), cfg).corpus
    embeddings = embed_corpus.fn(corpus, EMBED, cfg).embeddings
    out = cluster_corpus.fn(corpus, embeddings, ClusterConfig(k=4, seed=0), cfg)
    assert local_store.get(out.assignments).num_rows == 60
    assert sum(local_store.get(out.stats).to_table().column("size").to_pylist()) == 60
    assert [n.name for n in local_store.upstream(out.stats).children] == ["assignments", "corpus"]


def test_nan_embeddings_are_rejected_with_the_row_named(local_store, monkeypatch):
    from salad_core.embedding.errors import EmbeddingError
    from salad_core.embedding.validation import unit_rows

    bad = np.ones((3, 4), dtype=np.float32)
    bad[1, 2] = np.nan
    with pytest.raises(EmbeddingError, match="doc-b"):
        unit_rows(bad, ["doc-a", "doc-b", "doc-c"])


def test_an_empty_corpus_shard_gives_an_embeddings_shard_with_the_same_schema(local_store):
    from salad_core.corpus.fineweb_schema import FINEWEB_SCHEMA
    from salad_core.embedding.config import EmbedConfig
    from storage import StageSpec
    from tasks.embed import EmbedStage, embed_spec
    from tasks.sharded_stage import write_sharded_artifact

    corpus, _ = write_sharded_artifact(
        local_store, StageSpec(name="corpus", code_version="empty"), lambda committed: [(0, FINEWEB_SCHEMA.empty_table())], schema=FINEWEB_SCHEMA
    )
    config = EmbedConfig()
    result = EmbedStage(local_store, embed_spec(corpus, config), corpus, config).run()
    schema = local_store.get(result.ref).dataset().schema
    assert schema.names == ["id", "embedding"] and str(schema.field("embedding").type) == "fixed_size_list<element: float>[384]"


def test_embeddings_that_do_not_line_up_with_the_corpus_are_refused(bundled):
    """The assignments join back to the corpus by (shard, row): ids are compared, not assumed."""
    from storage import StageSpec
    from tasks.sharded_stage import write_sharded_artifact

    store, corpus, embeddings = bundled
    source = store.get(embeddings.embeddings)
    swapped = [source.read_shard(i) for i in range(len(source.manifest.shards))]
    first = swapped[0]
    swapped[0] = first.take(list(range(1, first.num_rows)) + [0])  # shard 0 rotated by one row
    spec = StageSpec(name="embeddings", params={"rotated": True}, code_version="test", parents=[corpus])
    rotated, _ = write_sharded_artifact(store, spec, lambda committed: enumerate(swapped))
    with pytest.raises(ValueError, match=r"embeddings shard 0 does not line up with corpus shard 0: .* first difference at row 0"):
        cluster_corpus.fn(corpus, rotated, ClusterConfig(k=14, seed=0), store.objects.config)
