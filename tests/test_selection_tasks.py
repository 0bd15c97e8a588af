"""Probe → misalignment → selection → report as stages over a local store (real store, real tasks).

Run: HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/test_selection_tasks.py -q

The corpus, assignments and cluster stats are written straight into the store (the clustering
stage has its own tests); three clusters of 60, 40 and 5 documents, each a few sentences of its
own vocabulary.
"""

import numpy as np
import pyarrow as pa
import pytest
import torch

from salad_core.clustering.config import ClusterConfig
from salad_core.clustering.stats import ClusterStats
from salad_core.model import AdapterConfig, SpeechAdapter, SpeechLM, llm_from_config, tiny_qwen2_config
from salad_core.objective import FrozenTeacher
from salad_core.selection.config import Budget, MisalignmentConfig, ProbeConfig, SelectionConfig
from storage import ArtifactStore, StageSpec
from tasks.misalignment import MISALIGNMENT, MISALIGNMENT_SCHEMA, NO_CLIP, score_probe
from tasks.probe import build_probe_texts
from tasks.select import select_texts, selection_report
from tasks.sharded_stage import write_table_artifact

torch.set_num_threads(1)
SIZES = {0: 60, 1: 40, 2: 5}
VOCAB = {0: "river stone water bank fish", 1: "market price trade coin loan", 2: "star orbit moon planet light"}


def document(cluster: int, i: int) -> str:
    words = VOCAB[cluster].split()
    rng = np.random.default_rng([cluster, i])
    sentences = [" ".join(rng.choice(words, size=int(rng.integers(4, 9)))).capitalize() + "." for _ in range(int(rng.integers(2, 6)))]
    if i % 10 == 9:  # one document in ten opens with a sentence too long to speak as a probe
        sentences.insert(0, " ".join(rng.choice(words, size=90)) + ".")
    return " ".join(sentences)


def put(store, name, table, parents=(), **stats):
    return write_table_artifact(store, StageSpec(name=name, params=stats, code_version="test", parents=list(parents)), table, stats)


@pytest.fixture
def world(tmp_path):
    store = ArtifactStore.open(str(tmp_path / "store"))
    ids, texts, clusters = [], [], []
    for c, n in SIZES.items():
        for i in range(n):
            ids.append(f"doc-{c}-{i:03d}")
            texts.append(document(c, i))
            clusters.append(c)
    corpus = put(store, "corpus", pa.table({"id": ids, "text": texts}))
    assignments = put(
        store,
        "assignments",
        pa.table(
            {
                "id": ids,
                "cluster": pa.array(clusters, pa.int32()),
                "distance": pa.array(np.zeros(len(ids)), pa.float32()),
                "corpus_shard": pa.array(np.zeros(len(ids)), pa.int32()),
                "corpus_row": pa.array(np.arange(len(ids)), pa.int32()),
            }
        ),
        [corpus],
    )
    stats = ClusterStats(ClusterConfig(k=3))
    stats.update(ids, texts, clusters, np.zeros(len(ids)))
    cluster_stats = put(store, "cluster_stats", stats.table(), [assignments])
    return store, corpus, assignments, cluster_stats


def fixed_misalignment(store, m: dict, name_suffix=""):
    rows = [
        {"kind": "cluster", "cluster": c, "id": None, "m": v, "ci_low": v * 0.9, "ci_high": v * 1.1, "n_samples": 4, "n_positions": 40, "status": "scored"}
        for c, v in m.items()
    ]
    return put(store, MISALIGNMENT, pa.Table.from_pylist(rows, schema=MISALIGNMENT_SCHEMA), [], note=name_suffix or str(m))


def test_probe_texts_are_seeded_speakable_and_short_clusters_reported(world):
    store, corpus, assignments, _ = world
    cfg = store.objects.config
    ref = build_probe_texts.fn(corpus, assignments, ProbeConfig(n_per_cluster=8, max_words=40, min_words=4), cfg)
    table = store.get(ref).to_table()
    counts = {c: table.column("cluster").to_pylist().count(c) for c in SIZES}
    assert counts == {0: 8, 1: 8, 2: 5}
    assert all(4 <= w <= 40 and t.endswith(".") for w, t in zip(table.column("words").to_pylist(), table.column("text").to_pylist()))
    assert all(i == f"probe:{s}" for i, s in zip(table.column("id").to_pylist(), table.column("source_id").to_pylist()))
    stats = store.get(ref).manifest.stats
    assert stats["clusters_short"] == {"2": {"documents": 5, "chosen": 5, "too_short": 0}}
    # same seed, same probe (reused); another seed, another probe
    assert build_probe_texts.fn(corpus, assignments, ProbeConfig(n_per_cluster=8, max_words=40, min_words=4), cfg) == ref
    other = build_probe_texts.fn(corpus, assignments, ProbeConfig(n_per_cluster=8, max_words=40, min_words=4, seed=1), cfg)
    assert set(store.get(other).to_table().column("id").to_pylist()) != set(table.column("id").to_pylist())


def test_selection_follows_p_target_and_records_its_weights(world):
    store, corpus, assignments, cluster_stats = world
    cfg = store.objects.config
    mis = fixed_misalignment(store, {0: 0.1, 1: 0.2, 2: 0.15})
    config = SelectionConfig(gamma=5.0, budget=Budget(kind="rows", amount=30), seed=0)
    out = select_texts.fn(corpus, assignments, cluster_stats, mis, config, cfg)
    table = store.get(out.selection).to_table()
    assert table.num_rows == 30 and len(set(table.column("id").to_pylist())) == 30
    stats = store.get(out.selection).manifest.stats
    p_target = {int(c): v["p_target"] for c, v in stats["clusters"].items()}
    w = {c: SIZES[c] * m**5 for c, m in {0: 0.1, 1: 0.2, 2: 0.15}.items()}
    assert p_target == pytest.approx({c: v / sum(w.values()) for c, v in w.items()}, rel=1e-12)
    row = table.to_pylist()[0]
    assert row["weight"] == pytest.approx(row["p_web"] / row["p_target"]) and row["m"] == {0: 0.1, 1: 0.2, 2: 0.15}[row["cluster"]]
    # cluster 1 holds ~85% of P_target: most of the 30 texts come from it
    assert table.column("cluster").to_pylist().count(1) >= 20
    # reproducible: the same call is a reuse; the report names M(c), P_target and the realised counts
    assert select_texts.fn(corpus, assignments, cluster_stats, mis, config, cfg).reused
    report = store.get(selection_report(out, cfg)).to_table().to_pylist()[0]
    assert report["png"][:4] == b"\x89PNG" and "| cluster | M(c)" in report["markdown"] and "first version" in report["markdown"]


def test_gamma_zero_is_p_web_and_drift_is_measured_from_the_previous_version(world):
    store, corpus, assignments, cluster_stats = world
    cfg = store.objects.config
    first = select_texts.fn(
        corpus,
        assignments,
        cluster_stats,
        fixed_misalignment(store, {0: 0.1, 1: 0.2, 2: 0.15}),
        SelectionConfig(gamma=5.0, budget=Budget(kind="rows", amount=20)),
        cfg,
    )
    out = select_texts.fn(corpus, assignments, cluster_stats, None, SelectionConfig(gamma=0.0, budget=Budget(kind="rows", amount=20)), cfg)
    stats = store.get(out.selection).manifest.stats
    shares = store.get(cluster_stats).to_table().column("share").to_pylist()
    assert [stats["clusters"][str(c)]["p_target"] for c in range(3)] == shares  # bit for bit
    mis = fixed_misalignment(store, {0: 0.1, 1: 0.2, 2: 0.15})
    report_ref = selection_report(out.model_copy(update={"misalignment": mis}), cfg)
    assert "| 1 | 0.2000 | [0.1800, 0.2200] |" in store.get(report_ref).to_table().column("markdown")[0].as_py()  # M(c) shown at gamma = 0 too
    figures = store.get(report_ref).manifest.stats
    assert figures["previous"] == str(first.selection) and 0 < figures["drift_tv"] <= 1
    assert figures["effective_sample_size"] == pytest.approx(20.0)  # gamma = 0: every weight is 1


def test_hours_budget_gate_exclusion_and_probe_documents(world):
    store, corpus, assignments, cluster_stats = world
    cfg = store.objects.config
    probe = build_probe_texts.fn(corpus, assignments, ProbeConfig(n_per_cluster=4, max_words=40, min_words=4), cfg)
    gate = put(store, "speech_gate_clusters", pa.table({"cluster": [0, 1, 2], "rows": [4, 4, 4], "failure_rate": [0.0, 0.5, 0.0]}))
    mis = fixed_misalignment(store, {0: 0.1, 1: 0.2, 2: 0.15})
    config = SelectionConfig(
        gamma=1.0, budget=Budget(kind="hours", amount=0.05), words_per_second=2.5, max_cluster_failure_rate=0.25, max_words=30, allow_short_corpus=True
    )
    out = select_texts.fn(corpus, assignments, cluster_stats, mis, config, cfg, gate_clusters=gate, probe_texts=probe)
    table = store.get(out.selection).to_table()
    stats = store.get(out.selection).manifest.stats
    assert 1 not in table.column("cluster").to_pylist()
    assert "50% of its 4 probe clips failed" in stats["excluded_clusters"]["1"]
    assert stats["probe_documents_left_out"] == 12
    probe_sources = set(store.get(probe).to_table().column("source_id").to_pylist())
    assert not probe_sources & set(table.column("id").to_pylist())
    spent_s = sum(table.column("cost").to_pylist())
    assert spent_s == pytest.approx(sum(table.column("words").to_pylist()) / 2.5)
    last = table.column("cost").to_pylist()[-1]
    assert 180.0 <= spent_s < 180.0 + last  # 0.05 h, within one text
    assert max(table.column("words").to_pylist()) <= 30


def test_bad_selection_inputs_are_clear_errors(world):
    store, corpus, assignments, cluster_stats = world
    cfg = store.objects.config
    mis = fixed_misalignment(store, {0: 0.1, 1: 0.2, 2: 0.15})
    with pytest.raises(ValueError, match="greater than 0"):
        Budget(kind="rows", amount=0)
    with pytest.raises(ValueError, match=r"selection.budget = 1000 rows \(counted in rows\): budget 1000 is more than the 105"):
        select_texts.fn(corpus, assignments, cluster_stats, mis, SelectionConfig(budget=Budget(kind="rows", amount=1000)), cfg)
    with pytest.raises(ValueError, match="needs a misalignment artifact"):
        select_texts.fn(corpus, assignments, cluster_stats, None, SelectionConfig(budget=Budget(kind="rows", amount=5)), cfg)
    unscored = fixed_misalignment(store, {0: 0.1, 1: 0.2})
    with pytest.raises(ValueError, match="cluster 2 has 5 documents but no M"):
        select_texts.fn(corpus, assignments, cluster_stats, unscored, SelectionConfig(budget=Budget(kind="rows", amount=5), unscored_clusters="error"), cfg)
    out = select_texts.fn(corpus, assignments, cluster_stats, unscored, SelectionConfig(budget=Budget(kind="rows", amount=5)), cfg)
    assert "no probe sample scored" in store.get(out.selection).manifest.stats["excluded_clusters"]["2"]
    with pytest.raises(ValueError, match="words_per_second or the probe's speech"):
        select_texts.fn(corpus, assignments, cluster_stats, mis, SelectionConfig(budget=Budget(kind="hours", amount=1)), cfg)


def test_regeneration_redraws_only_the_clusters_named_or_whose_m_moved(world):
    from salad_core.selection.config import RegenerationConfig
    from tasks.select import regenerate_selection

    store, corpus, assignments, cluster_stats = world
    cfg = store.objects.config
    budget = Budget(kind="rows", amount=30)
    before = select_texts.fn(
        corpus, assignments, cluster_stats, fixed_misalignment(store, {0: 0.1, 1: 0.2, 2: 0.15}, "before"), SelectionConfig(gamma=1.0, budget=budget), cfg
    ).selection
    # Stage I retrained: M(1) moved a lot, M(2) a little; a new draw (another seed) is made
    after_m = fixed_misalignment(store, {0: 0.1, 1: 0.5, 2: 0.16}, "after")
    draw = select_texts.fn(corpus, assignments, cluster_stats, after_m, SelectionConfig(gamma=1.0, budget=budget, seed=3), cfg).selection
    rows = lambda ref: store.get(ref).to_table().to_pylist()  # noqa: E731
    by_cluster = lambda table, c: [(r["id"], r["text"]) for r in table if r["cluster"] == c]  # noqa: E731

    out = regenerate_selection.fn(draw, RegenerationConfig(delta=0.05), cfg)
    assert str(out.baseline) == str(before) and out.redo == [1]
    merged = rows(out.selection)
    for c in (0, 2):  # unchanged clusters keep the baseline's rows, in its order
        assert by_cluster(merged, c) == by_cluster(rows(before), c)
    assert by_cluster(merged, 1) == by_cluster(rows(draw), 1) != by_cluster(rows(before), 1)
    assert [r["draw"] for r in merged] == list(range(len(merged)))
    stats = store.get(out.selection).manifest.stats
    assert stats["regenerated"]["m_before_after"] == {"1": [0.2, 0.5]} and stats["budget"]["spent"] == len(merged)
    # a rerun finds the same baseline and reuses the merged version; no rule means the draw as it is
    assert str(regenerate_selection.fn(draw, RegenerationConfig(delta=0.05), cfg).selection) == str(out.selection)
    assert str(regenerate_selection.fn(draw, RegenerationConfig(), cfg).selection) == str(draw)
    # by id, against an explicit baseline; a delta nothing exceeds keeps the baseline as it is
    named = regenerate_selection.fn(draw, RegenerationConfig(clusters=[2], baseline=str(before)), cfg)
    assert named.redo == [2] and by_cluster(rows(named.selection), 1) == by_cluster(rows(before), 1)
    assert str(regenerate_selection.fn(draw, RegenerationConfig(delta=0.9, baseline=str(before)), cfg).selection) == str(before)
    with pytest.raises(ValueError, match=r"regenerate.clusters \[9\] are not clusters"):
        regenerate_selection.fn(draw, RegenerationConfig(clusters=[9]), cfg)
    with pytest.raises(ValueError, match="is a 'corpus' artifact, not a selection"):
        regenerate_selection.fn(draw, RegenerationConfig(clusters=[1], baseline=str(corpus)), cfg)


def test_regeneration_without_an_earlier_selection_is_a_clear_error(world):
    from salad_core.selection.config import RegenerationConfig
    from tasks.select import regenerate_selection

    store, corpus, assignments, cluster_stats = world
    cfg = store.objects.config
    only = select_texts.fn(corpus, assignments, cluster_stats, None, SelectionConfig(gamma=0, budget=Budget(kind="rows", amount=10)), cfg)
    with pytest.raises(ValueError, match="no earlier selection in the store to keep rows from"):
        regenerate_selection.fn(only.selection, RegenerationConfig(clusters=[1]), cfg)


def toy_tokenizer(text: str) -> list[int]:
    return [5 + sum(map(ord, w)) % 40 for w in text.split()]


def test_score_probe_with_tiny_models_reports_every_probe_text():
    torch.manual_seed(0)
    llm = llm_from_config(tiny_qwen2_config(48))
    teacher = FrozenTeacher.copy_of(llm)
    table = torch.randn(2048, 512) * 0.1
    student = SpeechLM(llm, SpeechAdapter(AdapterConfig.preset("tiny", llm_hidden=64)), codes_to_latents=lambda codes: table[codes].sum(1).transpose(1, 2))
    rng = np.random.default_rng(0)
    clips, texts = [], {}
    for k in range(6):
        words = ["river", "stone", "water", "bank", "fish"] * 8
        timings = [{"word": w, "start": 0.4 * i, "end": 0.4 * i + 0.3} for i, w in enumerate(words)]
        n_frames = int(0.4 * len(words) * 12.5) + 1
        clips.append({"id": f"p{k}", "word_timings": timings, "codes": rng.integers(0, 2048, n_frames * 8).tolist(), "n_frames": n_frames, "n_codebooks": 8})
        texts[f"p{k}"] = k % 2
    clips[5]["word_timings"] = None
    clips[3]["word_timings"] = [{**t, "end": t["start"] - 0.1} if i == 2 else t for i, t in enumerate(clips[3]["word_timings"])]
    texts["lost"] = 2  # a probe text whose clip failed the gate
    result, stats = score_probe(student, teacher, toy_tokenizer, clips, texts, MisalignmentConfig(n_boot=50, batch_size=4))
    rows = result.to_pylist()
    clusters = {r["cluster"]: r for r in rows if r["kind"] == "cluster"}
    assert clusters[0]["status"] == "scored" and clusters[0]["n_samples"] == 3 and clusters[0]["m"] > 0
    assert clusters[1]["n_samples"] == 1 and clusters[2]["status"] == "no_probe" and clusters[2]["m"] is None
    assert clusters[0]["ci_low"] <= clusters[0]["m"] <= clusters[0]["ci_high"]
    samples = {r["id"]: r for r in rows if r["kind"] == "sample"}
    assert samples["lost"]["status"] == NO_CLIP and "no word timings" in samples["p5"]["status"]
    assert samples["p3"]["status"].startswith("invalid word timings: ") and "word 2 ends" in samples["p3"]["status"]
    assert stats["clusters_without_probe"] == [2]
    m0 = np.mean([samples[i]["m"] for i in ("p0", "p2", "p4")])
    assert clusters[0]["m"] == pytest.approx(m0, rel=1e-12)


def test_score_probe_refuses_a_checkpoint_that_does_not_fit_the_probe():
    torch.manual_seed(0)
    llm = llm_from_config(tiny_qwen2_config(48))
    student = SpeechLM(llm, SpeechAdapter(AdapterConfig.preset("tiny", llm_hidden=64)), codes_to_latents=lambda c: torch.zeros(c.shape[0], 512, c.shape[2]))
    teacher = FrozenTeacher.copy_of(llm)
    words = ["river"] * 30
    clip = {
        "id": "p0",
        "word_timings": [{"word": w, "start": 0.4 * i, "end": 0.4 * i + 0.3} for i, w in enumerate(words)],
        "codes": [0] * (151 * 8),
        "n_frames": 151,
        "n_codebooks": 8,
    }
    with pytest.raises(ValueError, match="has 8 codebooks, the model reads 16"):
        score_probe(student, teacher, toy_tokenizer, [clip], {"p0": 0}, MisalignmentConfig(), num_codebooks=16)
    with pytest.raises(ValueError, match="tokenizes to id 100 but the model has 48 embeddings"):
        score_probe(student, teacher, lambda text: [100] * len(text.split()), [clip], {"p0": 0}, MisalignmentConfig())
    with pytest.raises(ValueError, match="not in the probe texts"):
        score_probe(student, teacher, toy_tokenizer, [clip], {"other": 0}, MisalignmentConfig())


def test_report_is_published_in_a_prefect_run(world, prefect_harness):
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    store, corpus, assignments, cluster_stats = world
    mis = fixed_misalignment(store, {0: 0.1, 1: 0.2, 2: 0.15})

    @flow
    def selection_flow():
        out = select_texts(corpus, assignments, cluster_stats, mis, SelectionConfig(budget=Budget(kind="rows", amount=10)), store.objects.config)
        return selection_report(out, store.objects.config)

    report = selection_flow()
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["salad-selection-overview"])))
    assert found and str(report) in found[0].data and "data:image/png;base64," in found[0].data


def test_preflight_cost_refuses_beyond_the_budget_unless_overridden():
    from salad_core.selection.cost import CostOverBudget, Workload
    from tasks.select import preflight_cost

    workload = Workload(docs_to_embed=0, natural_speech_hours=10.0, synthetic_speech_hours=1.0, train_tokens=3.6e6)
    estimate = preflight_cost(workload, max_device_hours=100)
    assert estimate.device_hours == pytest.approx(11 / 29.2 + 0.45 + 0.5)
    with pytest.raises(CostOverBudget, match="exceed the budget of 1.0"):
        preflight_cost(workload, max_device_hours=1.0)
    assert preflight_cost(workload, max_device_hours=1.0, override=True).device_hours > 1.0
