"""Prefect task: corpus + cluster assignments → the probe set, n speakable texts per cluster.

    from tasks.probe import build_probe_texts
    ref = build_probe_texts(corpus_ref, assignments_ref, ProbeConfig(n_per_cluster=32), store_config)     # in a flow
    ref = build_probe_texts.fn(corpus_ref, assignments_ref, ProbeConfig(), store_config)                 # plain Python

Output ``probe_texts`` (one shard): ``id`` (``probe:<document id>``), ``text`` (the document's
leading whole sentences, at most ``max_words`` words), ``cluster``, ``source_id`` (the document),
``words``, ordered by cluster then by the seeded hash of the document id. It is what synthesis reads
(``synthesize_speech`` keeps the ``cluster`` column), and through it the probe's speech, codes and
M(c). The manifest's stats give, per cluster whose probe is short of n, how many documents the
cluster has, how many were chosen and how many were passed over as too short to speak.
"""

from __future__ import annotations

from collections import defaultdict

import pyarrow as pa
from prefect import task

from salad_core.selection.config import ProbeConfig
from salad_core.selection.probe import ProbePicker
from storage import ArtifactRef, ArtifactStore, StageSpec, StoreConfig
from tasks.publish import publish_artifact
from tasks.sharded_stage import stage_logger, stage_version, write_table_artifact

PROBE_TEXTS = "probe_texts"
PROBE_CODE_VERSION = stage_version("probe-2", __name__, exclude=("salad_core.selection.report",))
PROBE_SCHEMA = pa.schema([("id", pa.string()), ("text", pa.string()), ("cluster", pa.int32()), ("source_id", pa.string()), ("words", pa.int32())])


def probe_spec(corpus: ArtifactRef, assignments: ArtifactRef, config: ProbeConfig) -> StageSpec:
    """The `probe_texts` spec: the probe config, with `corpus` and `assignments` as parents."""
    return StageSpec(name=PROBE_TEXTS, params=config.model_dump(mode="json"), code_version=PROBE_CODE_VERSION, parents=[corpus, assignments])


def pick_probe(store: ArtifactStore, corpus: ArtifactRef, assignments: ArtifactRef, config: ProbeConfig) -> tuple[pa.Table, dict]:
    """The probe rows and the stats: shortfalls per cluster, documents passed over."""
    assigned = store.get(assignments)
    names = assigned.dataset().schema.names
    missing = [c for c in ("id", "cluster", "corpus_shard", "corpus_row") if c not in names]
    if missing:
        raise ValueError(f"{assigned.ref} lacks the column(s) {missing}: give the `assignments` artifact of the cluster stage")
    picker = ProbePicker(config)
    for batch in assigned.iter_batches(batch_size=65_536, columns=["id", "cluster", "corpus_shard", "corpus_row"]):
        positions = list(zip(batch.column("corpus_shard").to_pylist(), batch.column("corpus_row").to_pylist()))
        picker.add(batch.column("id").to_pylist(), batch.column("cluster").to_numpy(), positions)
    candidates = picker.candidates()

    wanted: dict[int, set[int]] = defaultdict(set)  # corpus shard -> rows to read
    for held in candidates.values():
        for _, (shard, row) in held:
            wanted[shard].add(row)
    texts: dict[tuple[int, int], str | None] = {}
    source = store.get(corpus)
    for shard, rows in sorted(wanted.items()):
        rows_sorted = sorted(rows)
        column = source.read_shard(shard, columns=["text"]).column("text").take(pa.array(rows_sorted)).to_pylist()
        texts.update({(shard, r): t for r, t in zip(rows_sorted, column)})

    out, short, passed_over = [], {}, 0
    for cluster, held in candidates.items():
        outcome = picker.choose(cluster, [(i, texts[p]) for i, p in held])
        out += outcome.rows
        passed_over += outcome.too_short
        if len(outcome.rows) < config.n_per_cluster:
            short[str(cluster)] = {"documents": outcome.documents, "chosen": len(outcome.rows), "too_short": outcome.too_short}
    stats = {
        "clusters": len(candidates),
        "rows": len(out),
        "n_per_cluster": config.n_per_cluster,
        "clusters_short": short,
        "documents_too_short": passed_over,
        "words": sum(r["words"] for r in out),
    }
    return pa.Table.from_pylist(out, schema=PROBE_SCHEMA), stats


@task(name="probe-texts")
def build_probe_texts(corpus: ArtifactRef, assignments: ArtifactRef, config: ProbeConfig, store_config: StoreConfig) -> ArtifactRef:
    """A seeded sample of n speakable texts per cluster (fewer where a cluster is smaller, reported)."""
    store = ArtifactStore.open(store_config)
    spec = probe_spec(corpus, assignments, config)
    existing = store.find(spec)
    if existing:
        stage_logger().info("%s@%s exists: reused, nothing recomputed", spec.name, spec.fingerprint)
        publish_artifact(store, existing, reused=True)
        return existing
    table, stats = pick_probe(store, corpus, assignments, config)
    if table.num_rows == 0:
        raise ValueError(f"no probe text: none of the documents of {assignments} has a speakable cut of {config.min_words}-{config.max_words} words")
    if stats["clusters_short"]:
        stage_logger().warning("probe: %d cluster(s) have fewer than %d texts: %s", len(stats["clusters_short"]), config.n_per_cluster, stats["clusters_short"])
    return write_table_artifact(store, spec, table, stats)
