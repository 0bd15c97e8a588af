"""Prefect task: embeddings → k-means centroids, per-document assignments, per-cluster statistics.

    from tasks.cluster import cluster_corpus
    out = cluster_corpus(corpus_ref, embeddings_ref, ClusterConfig(k=128), store_config)

Three artifacts, each reused on its own: ``centroids`` (fitted on a seeded hash-of-id sample,
so the sample does not depend on shard order or on a resume), ``assignments`` (``id, cluster,
distance`` cosine, plus the corpus shard/row for joining back to the text; each shard is sorted by
cluster with one Parquet row group per cluster, so reading one cluster skips the others' data),
and ``cluster_stats`` (size, share P_web(c), mean distance, nearest examples, top terms).
``cluster_report`` holds the markdown summary and the PNG figure.
"""

from __future__ import annotations


import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from prefect import task
from pydantic import BaseModel

from salad_core.clustering.config import ClusterConfig
from salad_core.clustering.kmeans import assign, fit_centroids
from salad_core.clustering.report import cluster_figure, markdown_summary
from salad_core.clustering.sampling import FitSampleCollector
from salad_core.clustering.stats import ClusterStats
from salad_core.embedding.arrow import arrow_to_vectors, vectors_to_arrow
from storage import ArtifactRef, ArtifactStore, StageSpec, StoreConfig
from tasks.sharded_stage import ShardedStage, TableStage, stage_version

CENTROIDS, ASSIGNMENTS, STATS, REPORT = "centroids", "assignments", "cluster_stats", "cluster_report"
# the figure is presentation: editing it re-draws the report, never re-fits k-means
CLUSTER_CODE_VERSION = stage_version("cluster-2", __name__, exclude=("salad_core.clustering.report",))
REPORT_CODE_VERSION = stage_version("cluster-report-2", __name__)
FIT_FIELDS = {"k", "seed", "fit_fraction", "fit_max_vectors", "backend", "init", "n_init", "max_iter", "tol"}
STATS_FIELDS = {"examples_per_cluster", "top_terms", "snippet_chars", "max_vocabulary", "term_sample_fraction"}


class ClusterOutputs(BaseModel):
    centroids: ArtifactRef
    assignments: ArtifactRef
    stats: ArtifactRef
    report: ArtifactRef
    reused: bool


def _spec(name: str, config: ClusterConfig, fields: set[str], parents: list[ArtifactRef]) -> StageSpec:
    return StageSpec(name=name, params=config.model_dump(mode="json", include=fields), code_version=CLUSTER_CODE_VERSION, parents=parents)


def fit_stage(store: ArtifactStore, embeddings: ArtifactRef, config: ClusterConfig) -> tuple[ArtifactRef, bool]:
    """The `centroids` version for `embeddings` and whether it was reused (k-means fitted only when not
    committed); ValueError when the fit sample holds fewer than `config.k` documents."""

    def build() -> tuple[pa.Table, dict]:
        collector = FitSampleCollector(config.fit_fraction, config.fit_max_vectors, config.seed)
        for batch in store.get(embeddings).iter_batches(batch_size=4096):
            collector.add(batch.column("id").to_pylist(), arrow_to_vectors(batch.column("embedding")))
        ids, vectors = collector.result()
        if len(ids) < config.k:
            raise ValueError(f"cluster.k={config.k} but only {len(ids)} documents are in the fit sample of {embeddings}")
        centroids = fit_centroids(vectors, config)
        table = pa.table({"cluster": pa.array(np.arange(config.k), pa.int32()), "centroid": vectors_to_arrow(centroids)})
        return table, {"fit_rows": len(ids)}

    result = TableStage(store, _spec(CENTROIDS, config, FIT_FIELDS, [embeddings]), build).run()
    return result.ref, result.reused


def sorted_by_cluster(ids: list[str], shard: int, clusters: np.ndarray, distances: np.ndarray) -> pa.Table:
    """One record batch (hence one Parquet row group) per cluster: a cluster filter reads only its own."""
    order = np.argsort(clusters, kind="stable")
    table = pa.table(
        {
            "id": pa.array(ids, pa.string()).take(pa.array(order)),
            "cluster": pa.array(clusters[order], pa.int32()),
            "distance": pa.array(distances[order], pa.float32()),
            "corpus_shard": pa.array(np.full(len(ids), shard), pa.int32()),
            "corpus_row": pa.array(order, pa.int32()),
        }
    )
    bounds = np.flatnonzero(np.diff(clusters[order])) + 1
    starts, stops = np.r_[0, bounds], np.r_[bounds, len(order)]
    return pa.Table.from_batches([b for s, e in zip(starts, stops) for b in table.slice(s, e - s).to_batches()], table.schema)


class AssignStage(ShardedStage):
    """Shard i of the assignments from shard i of the embeddings, sorted by cluster."""

    def __init__(self, store: ArtifactStore, spec: StageSpec, embeddings: ArtifactRef, centroids: ArtifactRef, corpus: ArtifactRef):
        self.embeddings = store.get(embeddings)
        self.corpus = store.get(corpus)
        super().__init__(store, spec, len(self.embeddings.manifest.shards))
        self.centroids_ref = centroids
        self.centroids: np.ndarray | None = None
        if len(self.corpus.manifest.shards) != len(self.embeddings.manifest.shards):
            raise ValueError(
                f"{self.embeddings.ref} has {len(self.embeddings.manifest.shards)} shards, the corpus {self.corpus.ref} "
                f"{len(self.corpus.manifest.shards)}: the embeddings were not made from this corpus"
            )

    def num_shards(self) -> int:
        """One assignments shard per embeddings shard."""
        return len(self.embeddings.manifest.shards)

    def process_shard(self, shard: int) -> tuple[pa.Table, None]:
        """Shard `shard`'s cluster and distance per document, sorted by cluster; ValueError when its ids
        are not the corpus shard's, row for row."""
        if self.centroids is None:
            self.centroids = arrow_to_vectors(self.store.get(self.centroids_ref).to_table().column("centroid"))
        rows = self.embeddings.read_shard(shard)
        check_same_ids(rows.column("id"), self.corpus.read_shard(shard, columns=["id"]).column("id"), shard)
        clusters, distances = assign(arrow_to_vectors(rows.column("embedding")), self.centroids)
        return sorted_by_cluster(rows.column("id").to_pylist(), shard, clusters, distances), None


def check_same_ids(embedded: pa.ChunkedArray, corpus: pa.ChunkedArray, shard: int) -> None:
    """Assignments point at (corpus shard, row): embeddings row j of shard i must be corpus row j of
    shard i. Checked, not assumed: a re-sharded or re-ordered input would silently mislabel texts."""
    if embedded.equals(corpus):
        return
    a, b = embedded.to_pylist(), corpus.to_pylist()
    where = next((j for j, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    raise ValueError(
        f"embeddings shard {shard} does not line up with corpus shard {shard}: {len(a)} vs {len(b)} rows, "
        f"first difference at row {where} ({a[where] if where < len(a) else None!r} vs {b[where] if where < len(b) else None!r})"
    )


def assign_stage(store: ArtifactStore, corpus: ArtifactRef, embeddings: ArtifactRef, centroids_ref: ArtifactRef, config: ClusterConfig):
    """The `assignments` version (resumed shard by shard) and whether it was reused; `embeddings` must
    have been made from `corpus`, shard for shard and row for row."""
    spec = _spec(ASSIGNMENTS, config, set(), [embeddings, centroids_ref, corpus])
    result = AssignStage(store, spec, embeddings, centroids_ref, corpus).run()
    return result.ref, result.reused


def stats_stage(store: ArtifactStore, corpus: ArtifactRef, assignments: ArtifactRef, config: ClusterConfig) -> tuple[ArtifactRef, bool]:
    """The `cluster_stats` version (size, share, mean distance, examples, top terms per cluster) and
    whether it was reused; texts are read back from `corpus` through the assignments' rows."""

    def build() -> tuple[pa.Table, dict]:
        stats = ClusterStats(config)
        text_source, assigned = store.get(corpus), store.get(assignments)
        for shard in range(len(assigned.manifest.shards)):
            rows = assigned.read_shard(shard)
            texts = text_source.read_shard(shard, columns=["text"]).column("text").take(rows.column("corpus_row"))
            stats.update(rows.column("id"), texts, rows.column("cluster").to_numpy(), rows.column("distance").to_numpy())
        table = stats.table()
        sizes = table.column("size").to_numpy()
        summary = {
            "k": config.k,
            "documents": int(sizes.sum()),
            "empty_clusters": int((sizes == 0).sum()),
            "largest_share": float(pc.max(table.column("share")).as_py() or 0),
        }
        return table, summary

    result = TableStage(store, _spec(STATS, config, STATS_FIELDS | {"k"}, [assignments, corpus]), build).run()
    return result.ref, result.reused


def report_stage(store: ArtifactStore, stats_ref: ArtifactRef, assignments: ArtifactRef, embeddings: ArtifactRef, config: ClusterConfig) -> ArtifactRef:
    """The `cluster_report` version: markdown summary and PNG figure (drawn from the first shard). Its
    own code version, so a change to the figure re-draws the report and never re-fits k-means."""

    def build() -> tuple[pa.Table, dict]:
        stats = store.get(stats_ref).to_table()
        emb, assigned = store.get(embeddings), store.get(assignments)
        # the figure's sample: the first shard's rows (bounded), aligned by id
        rows = assigned.read_shard(0, columns=["id", "cluster", "corpus_row"])
        vectors = arrow_to_vectors(emb.read_shard(0).column("embedding"))[rows.column("corpus_row").to_numpy()]
        png = cluster_figure(stats, vectors, rows.column("cluster").to_numpy(), seed=config.seed)
        return pa.table({"markdown": [markdown_summary(stats)], "png": pa.array([png], pa.binary())}), {"png_bytes": len(png)}

    spec = _spec(REPORT, config, {"seed"}, [stats_ref, assignments, embeddings]).model_copy(update={"code_version": REPORT_CODE_VERSION})
    return TableStage(store, spec, build).run().ref


def publish_report(store: ArtifactStore, report: ArtifactRef) -> None:
    """The summary table and the figure in the Prefect UI (no-op outside a Prefect run)."""
    import base64

    from prefect.artifacts import create_markdown_artifact

    from tasks.publish import in_prefect_run

    if not in_prefect_run():
        return
    row = store.get(report).to_table().to_pylist()[0]
    image = base64.b64encode(row["png"]).decode()
    create_markdown_artifact(
        f"## Clusters ({report})\n\n![clusters](data:image/png;base64,{image})\n\n{row['markdown']}",
        key="salad-cluster-overview",  # "salad-cluster-report" holds the manifest summaries (publish_artifact)
        description="cluster sizes, 2-D projection, top terms and examples",
    )


@task(name="cluster-corpus")
def cluster_corpus(corpus: ArtifactRef, embeddings: ArtifactRef, config: ClusterConfig, store_config: StoreConfig) -> ClusterOutputs:
    """Centroids, assignments, stats and report of `corpus` from its `embeddings`, each reused when
    committed; `reused` is true only when centroids, assignments and stats all were."""
    store = ArtifactStore.open(store_config)
    centroids, fit_reused = fit_stage(store, embeddings, config)
    assignments, assign_reused = assign_stage(store, corpus, embeddings, centroids, config)
    stats, stats_reused = stats_stage(store, corpus, assignments, config)
    report = report_stage(store, stats, assignments, embeddings, config)
    publish_report(store, report)
    return ClusterOutputs(centroids=centroids, assignments=assignments, stats=stats, report=report, reused=fit_reused and assign_reused and stats_reused)
