"""Per-cluster statistics streamed from assignment batches, and the report made from them.

Run: .venv/bin/python -m pytest tests/test_clustering_stats.py -q
"""

import numpy as np
import pyarrow as pa
import pytest

from salad_core.clustering import STATS_SCHEMA, ClusterConfig, ClusterStats, ClusterTermCounter, cluster_figure, markdown_summary

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WORDS = {
    0: "telescope galaxy orbit planet comet nebula",
    1: "flour oven dough yeast crust butter",
    2: "court judge statute appeal verdict jury",
}


def synthetic(n=90, seed=0):
    rng = np.random.default_rng(seed)
    clusters = np.arange(n) % 3
    texts = [f"The {' and the '.join(rng.permutation(WORDS[c].split())[:4])} are discussed here." for c in clusters]
    ids = [f"doc-{i:03d}" for i in range(n)]
    distances = rng.uniform(0.1, 0.9, n).astype(np.float32)
    return ids, texts, clusters, distances


def stats_of(batches, **config):
    stats = ClusterStats(ClusterConfig(k=4, **config))
    for ids, texts, clusters, distances in batches:
        stats.update(ids, texts, clusters, distances)
    return stats.table()


def split(data, size):
    ids, texts, clusters, distances = data
    for s in range(0, len(ids), size):
        yield ids[s : s + size], texts[s : s + size], clusters[s : s + size], distances[s : s + size]


def test_table_has_one_row_per_cluster_and_the_agreed_schema():
    table = stats_of([synthetic()])
    assert table.schema == STATS_SCHEMA and table.num_rows == 4
    assert table["cluster"].to_pylist() == [0, 1, 2, 3]
    assert table["size"].to_pylist() == [30, 30, 30, 0]
    assert sum(table["share"].to_pylist()) == pytest.approx(1.0)
    assert table["mean_distance"].to_pylist()[3] is None and table["examples"].to_pylist()[3] == []


def test_mean_distance_and_nearest_examples_are_exact():
    data = synthetic()
    ids, texts, clusters, distances = data
    row = stats_of([data], examples_per_cluster=2).to_pylist()[1]
    members = np.flatnonzero(clusters == 1)
    assert row["mean_distance"] == pytest.approx(float(distances[members].astype(np.float64).mean()))
    nearest = members[np.argsort(distances[members])[:2]]
    assert [e["id"] for e in row["examples"]] == [ids[i] for i in nearest]
    assert row["examples"][0]["text"] == texts[nearest[0]]


def test_streaming_in_any_batch_size_gives_the_same_table():
    data = synthetic()
    assert stats_of([data]).equals(stats_of(split(data, 7)))
    reversed_batches = [tuple(column[::-1] for column in data)]
    assert stats_of([data]).equals(stats_of(reversed_batches))


def test_top_terms_are_the_words_of_each_cluster():
    terms = stats_of([synthetic()], top_terms=6)["top_terms"].to_pylist()
    for cluster, words in WORDS.items():
        assert set(terms[cluster]) == set(words.split())
    assert terms[3] == []


def test_vocabulary_stays_bounded_and_frequent_terms_survive():
    counter = ClusterTermCounter(k=2, max_vocabulary=100)
    rare = [f"word{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}{chr(97 + i // 676)}" for i in range(3000)]
    texts = [f"glacier {rare[i]} {rare[i + 1]}" if i % 2 else f"volcano {rare[i]}" for i in range(2999)]
    clusters = [i % 2 for i in range(2999)]
    counter.add(texts, clusters)
    assert len(counter.vocabulary) <= 200 and counter.cluster_counts.shape == (2, 200)
    top = counter.top_terms(1)
    assert top == [["volcano"], ["glacier"]]


def test_snippets_are_cut_and_flattened():
    text = "line one\n\n  line two " + "x" * 500
    table = stats_of([(["a"], [text], [0], [0.5])], snippet_chars=40)
    snippet = table["examples"].to_pylist()[0][0]["text"]
    assert len(snippet) == 40 and snippet.startswith("line one line two") and snippet.endswith("…")


def test_bad_cluster_ids_are_refused():
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        stats_of([(["a"], ["t"], [4], [0.1])])


def test_markdown_lists_every_cluster_and_escapes_pipes():
    data = synthetic()
    data[1][0] = "a | b"
    data[3][0] = 0.0  # nearest to its centroid: the example shown
    table = stats_of([data])
    text = markdown_summary(table)
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| cluster")]
    assert sorted(int(r.split("|")[1]) for r in rows) == [0, 1, 2, 3]
    assert "a \\| b" in text


def test_figure_is_a_png_and_is_written_to_the_path(tmp_path):
    table = stats_of([synthetic()])
    vectors = np.random.default_rng(0).standard_normal((90, 8)).astype(np.float32)
    png = cluster_figure(table, vectors, np.arange(90) % 3, path=tmp_path / "clusters.png", max_points=50)
    assert png.startswith(PNG_SIGNATURE) and len(png) > 5_000
    assert (tmp_path / "clusters.png").read_bytes() == png


def test_figure_handles_many_clusters():
    table = pa.table({"cluster": np.arange(128, dtype=np.int32), "size": np.ones(128, dtype=np.int64)})
    png = cluster_figure(table, np.eye(128, 16, dtype=np.float32), np.arange(128))
    assert png.startswith(PNG_SIGNATURE)
