"""Prefect tasks: gamma-weighted selection of web texts to a budget, and its report.

    from tasks.select import select_texts, selection_report, publish_selection_report
    out = select_texts(corpus, assignments, cluster_stats, misalignment, SelectionConfig(gamma=5), store_config,
                       probe_speech=probe_speech, gate_clusters=probe_gate_clusters, probe_texts=probe_texts)
    report = selection_report(out, store_config)          # also published as a Prefect markdown artifact

Output ``selection`` (one shard, in draw order): ``id`` (the corpus document), ``text`` (its
leading whole sentences up to ``max_words`` words, what synthesis speaks), ``cluster``, ``words``,
``cost`` (estimated seconds of speech, tokens, or 1 per row, as the budget counts), ``draw`` (the
order drawn), and the weights used: ``p_web``, ``m`` (M(c)), ``p_target`` and ``weight`` =
P_web(c)/P_target(c) (the importance weight that maps the selection back to the web
distribution). Its manifest's stats record gamma, the budget (asked, spent, short by), the
speaking rate and where it came from, and per cluster P_web, M(c), P_target and status (eligible
or why excluded: empty, unscored, probe failed the gate), the clusters that ran out and at which
draw, and documents left out (no speakable cut; probe documents).

Parents: corpus, assignments, cluster_stats, and when used the misalignment (not at gamma = 0),
the probe speech (speaking rate measured from it), the probe's gate clusters (exclusion) and the
probe texts (their documents are never selected, so Stage II does not train on its own probe).

``selection_report`` writes ``selection_report`` (markdown + PNG: M(c) with intervals and top
terms, P_web vs P_target, expected vs realised counts, effective sample size, entropy, drift from
the previous selection version) and publishes it in the Prefect UI.

Selective regeneration: ``regenerate_selection(draw, RegenerationConfig(clusters=[3], delta=0.02))``
keeps a baseline selection's rows except for the clusters named or whose M(c) moved by more than
delta, which take the new draw's rows; synthesis and tokenization then copy every unchanged
cluster's shards and pay only for the redone ones. Before paying: ``preflight_cost(Workload(...), max_device_hours=...)`` logs and
publishes the estimate and raises CostOverBudget beyond the budget unless ``override``.
"""

from __future__ import annotations

import base64
from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from prefect import task
from pydantic import BaseModel, Field

from salad_core.selection.config import RegenerationConfig, SelectionConfig
from salad_core.selection.report import selection_figure, selection_markdown, selection_summary
from salad_core.selection.sampler import build_pools, draw_selection, target_plan
from salad_core.selection.speakable import speakable_cut, word_count
from storage import ArtifactRef, ArtifactStore, StageSpec, StoreConfig
from tasks.misalignment import read_misalignment
from tasks.publish import in_prefect_run, publish_artifact
from tasks.sharded_stage import stage_logger, stage_version, write_table_artifact

SELECTION, REPORT = "selection", "selection_report"
# the report (markdown + figure) is presentation: editing it re-draws the report, never re-draws the selection
SELECT_CODE_VERSION = stage_version("select-2", __name__, exclude=("salad_core.selection.report",))
SELECTION_REPORT_CODE_VERSION = stage_version("selection-report-2", __name__)
SELECTION_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("text", pa.string()),
        ("cluster", pa.int32()),
        ("words", pa.int32()),
        ("cost", pa.float64()),
        ("draw", pa.int64()),
        ("p_web", pa.float64()),
        ("m", pa.float64()),
        ("p_target", pa.float64()),
        ("weight", pa.float64()),
    ]
)


class SelectionOutputs(BaseModel):
    selection: ArtifactRef
    misalignment: ArtifactRef | None = None
    cluster_stats: ArtifactRef
    reused: bool


def measured_words_per_second(store: ArtifactStore, probe_speech: ArtifactRef) -> float:
    """Sum of words / sum of duration_s over the probe's synthetic speech (same TTS and voice as the selection)."""
    table = store.get(probe_speech).to_table(columns=["text", "duration_s"])
    words = sum(word_count(t or "") for t in table.column("text").to_pylist())
    seconds = float(pc.sum(table.column("duration_s")).as_py() or 0.0)
    if words == 0 or seconds <= 0:
        raise ValueError(f"{probe_speech} has {words} words over {seconds:.1f} s: cannot measure a speaking rate; set selection.words_per_second")
    return words / seconds


def excluded_by_gate(store: ArtifactStore, gate_clusters: ArtifactRef, max_rate: float) -> dict[int, str]:
    """Clusters to leave out of the selection, with the reason: those whose share of probe clips
    failing the quality gate (`gate_clusters`) is above `max_rate`."""
    table = store.get(gate_clusters).to_table(columns=["cluster", "failure_rate", "rows"])
    return {
        int(c): f"excluded: {rate:.0%} of its {rows} probe clips failed the quality gate (limit {max_rate:.0%})"
        for c, rate, rows in zip(*table.to_pydict().values())
        if rate is not None and rate > max_rate
    }


class Candidates:
    """Every eligible document's cluster, position, words and cost, read shard by shard (no texts kept)."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.clusters: list[np.ndarray] = []
        self.shards: list[np.ndarray] = []
        self.rows: list[np.ndarray] = []
        self.words: list[np.ndarray] = []
        self.tokens: list[np.ndarray] = []
        self.unspeakable: dict[int, int] = {}
        self.probe_documents = 0

    def read(self, store: ArtifactStore, corpus: ArtifactRef, assignments: ArtifactRef, max_words: int | None, skip: set[str]) -> None:
        """Collect the documents of `assignments` that have a speakable cut (up to `max_words` words, when set)
        and are not in `skip` (probe documents), reading their texts from `corpus` one shard at a
        time; counts the unspeakable ones per cluster and the probe documents left out."""
        source, assigned = store.get(corpus), store.get(assignments)
        has_tokens = "token_count" in source.dataset().schema.names
        for shard in range(len(assigned.manifest.shards)):
            rows = assigned.read_shard(shard, columns=["id", "cluster", "corpus_shard", "corpus_row"])
            if rows.num_rows == 0:
                continue
            corpus_shard = int(rows.column("corpus_shard")[0].as_py())
            if pc.count_distinct(rows.column("corpus_shard")).as_py() != 1:
                raise ValueError(f"{assigned.ref} shard {shard} points into several corpus shards: expected one (as the cluster stage writes)")
            columns = ["text"] + (["token_count"] if has_tokens else [])
            texts = source.read_shard(corpus_shard, columns=columns).take(rows.column("corpus_row"))
            ids = rows.column("id").to_pylist()
            words = np.asarray([speakable_cut(t, max_words)[1] if max_words else word_count(t or "") for t in texts.column("text").to_pylist()])
            tokens = (
                texts.column("token_count").to_numpy(zero_copy_only=False).astype(np.float64) if has_tokens and max_words is None else np.full(len(ids), np.nan)
            )
            keep = words > 0
            if skip:
                in_probe = np.asarray([i in skip for i in ids])
                self.probe_documents += int(in_probe.sum())
                keep &= ~in_probe
            clusters = rows.column("cluster").to_numpy()
            for c in clusters[(words == 0)].tolist():
                self.unspeakable[int(c)] = self.unspeakable.get(int(c), 0) + 1
            self.ids += [i for i, k in zip(ids, keep) if k]
            self.clusters.append(clusters[keep])
            self.shards.append(np.full(int(keep.sum()), corpus_shard))
            self.rows.append(rows.column("corpus_row").to_numpy()[keep])
            self.words.append(words[keep])
            self.tokens.append(tokens[keep])

    def arrays(self) -> tuple[np.ndarray, ...]:
        """The collected (clusters, corpus shards, corpus rows, words, tokens) as flat arrays, in reading order."""

        def cat(parts, dtype):
            return np.concatenate(parts).astype(dtype) if parts else np.empty(0, dtype)

        return cat(self.clusters, np.int64), cat(self.shards, np.int64), cat(self.rows, np.int64), cat(self.words, np.float64), cat(self.tokens, np.float64)


def costs_for(config: SelectionConfig, words: np.ndarray, tokens: np.ndarray, words_per_second: float | None) -> np.ndarray:
    """Each candidate's cost in the budget's unit: 1 per row, tokens (the corpus count, else words ×
    `tokens_per_word`) or seconds of speech (`words` / `words_per_second`, which an hours budget needs)."""
    kind = config.budget.kind
    if kind == "rows":
        return np.ones(len(words))
    if kind == "tokens":
        return np.where(np.isnan(tokens), words * config.tokens_per_word, tokens)
    return words / words_per_second  # seconds of speech; the budget is converted to seconds too


def budget_in_cost_units(config: SelectionConfig) -> float:
    """The budget in the unit `costs_for` counts: hours become seconds, rows and tokens stay as given."""
    return config.budget.amount * 3600.0 if config.budget.kind == "hours" else config.budget.amount


def selection_spec(parents: list[ArtifactRef], config: SelectionConfig, words_per_second: float | None) -> StageSpec:
    """The `selection` spec: every selection parameter plus the speaking rate actually used, so a
    different measured rate is a new version."""
    params = {**config.model_dump(mode="json"), "words_per_second_used": words_per_second}
    return StageSpec(name=SELECTION, params=params, code_version=SELECT_CODE_VERSION, parents=parents)


@task(name="select-texts")
def select_texts(
    corpus: ArtifactRef,
    assignments: ArtifactRef,
    cluster_stats: ArtifactRef,
    misalignment: ArtifactRef | None,
    config: SelectionConfig,
    store_config: StoreConfig,
    probe_speech: ArtifactRef | None = None,
    gate_clusters: ArtifactRef | None = None,
    probe_texts: ArtifactRef | None = None,
) -> SelectionOutputs:
    """Draw texts with P_target(c) ∝ P_web(c)·M(c)^gamma until the budget is spent (see module doc)."""
    store = ArtifactStore.open(store_config)
    log = stage_logger()
    if misalignment is None and config.gamma != 0:
        raise ValueError(f"selection.gamma = {config.gamma} needs a misalignment artifact (M(c)); only gamma = 0 runs without one")
    if config.max_cluster_failure_rate is not None and gate_clusters is None:
        raise ValueError("selection.max_cluster_failure_rate is set but no gate_clusters artifact (the probe's per-cluster gate rates) was given")
    words_per_second = config.words_per_second
    if config.budget.kind == "hours" and words_per_second is None:
        if probe_speech is None:
            raise ValueError("an hours budget needs selection.words_per_second or the probe's speech to measure it from")
        words_per_second = measured_words_per_second(store, probe_speech)
    parents = [corpus, assignments, cluster_stats]
    parents += [
        r
        for r, used in (
            (misalignment, config.gamma != 0),
            (probe_speech, config.budget.kind == "hours" and config.words_per_second is None),
            (gate_clusters, config.max_cluster_failure_rate is not None),
            (probe_texts, True),
        )
        if r is not None and used
    ]
    spec = selection_spec(parents, config, words_per_second if config.budget.kind == "hours" else None)
    existing = store.find(spec)
    if existing:
        log.info("%s@%s exists: reused, nothing drawn", spec.name, spec.fingerprint)
        publish_artifact(store, existing, reused=True)
        return SelectionOutputs(selection=existing, misalignment=misalignment, cluster_stats=cluster_stats, reused=True)

    stats_table = store.get(cluster_stats).to_table(columns=["cluster", "size"])
    sizes = dict(zip(stats_table.column("cluster").to_pylist(), stats_table.column("size").to_pylist()))
    m = read_misalignment(store, misalignment).m if misalignment is not None and config.gamma != 0 else {}
    excluded = excluded_by_gate(store, gate_clusters, config.max_cluster_failure_rate) if config.max_cluster_failure_rate is not None else {}
    plan = target_plan(sizes, m, config.gamma, excluded, config.unscored_clusters)

    skip = set(store.get(probe_texts).to_table(columns=["source_id"]).column("source_id").to_pylist()) if probe_texts else set()
    candidates = Candidates()
    candidates.read(store, corpus, assignments, config.max_words, skip)
    clusters, shards, rows, words, tokens = candidates.arrays()
    costs = costs_for(config, words, tokens, words_per_second)
    pools = build_pools(candidates.ids, clusters, costs, config.seed)
    try:
        drawn = draw_selection(plan, pools, budget_in_cost_units(config), config.seed, config.allow_short_corpus)
    except ValueError as error:
        unit = "seconds of speech" if config.budget.kind == "hours" else config.budget.kind
        raise ValueError(f"selection.budget = {config.budget.amount:g} {config.budget.kind} (counted in {unit}): {error}") from error

    chosen = np.asarray([pools[c].rows[p] for c, p in drawn.picks], dtype=np.int64)
    table = selection_table(store, corpus, plan, candidates.ids, clusters, shards, rows, words, costs, chosen, config.max_words)
    unit = "s" if config.budget.kind == "hours" else config.budget.kind
    summary = {
        "gamma": config.gamma,
        "budget": {
            "kind": config.budget.kind,
            "amount": config.budget.amount,
            "spent": drawn.spent / 3600.0 if unit == "s" else drawn.spent,
            "short_by": drawn.short_by / 3600.0 if unit == "s" else drawn.short_by,
        },
        "words_per_second": words_per_second,
        "words_per_second_source": None if config.budget.kind != "hours" else ("config" if config.words_per_second else f"measured on {probe_speech}"),
        "rows": table.num_rows,
        "clusters": plan.as_dict(),
        "excluded_clusters": {str(k): s for k, s in zip(plan.clusters.tolist(), plan.status) if s != "eligible"},
        "exhausted_clusters": {str(c): d for c, d in drawn.exhausted.items()},
        "documents_unspeakable": {str(c): n for c, n in sorted(candidates.unspeakable.items())},
        "probe_documents_left_out": candidates.probe_documents,
        "realised": {str(c): n for c, n in sorted(drawn.counts().items())},
    }
    if drawn.short_by > 0:
        log.warning(
            "selection: the eligible corpus ran out %.4g %s short of the budget (allow_short_corpus)", summary["budget"]["short_by"], config.budget.kind
        )
    if drawn.exhausted:
        log.warning("selection: clusters ran out of texts (mass redistributed): %s", summary["exhausted_clusters"])
    ref = write_table_artifact(store, spec, table, summary)
    return SelectionOutputs(selection=ref, misalignment=misalignment, cluster_stats=cluster_stats, reused=False)


def selection_table(store, corpus, plan, ids, clusters, shards, rows, words, costs, chosen: np.ndarray, max_words: int | None) -> pa.Table:
    """The chosen documents' cut texts (re-read from the corpus) with their weights, in draw order."""
    texts: dict[int, str] = {}
    source = store.get(corpus)
    for shard in np.unique(shards[chosen]).tolist():
        mine = chosen[shards[chosen] == shard]
        order = np.argsort(rows[mine])
        column = source.read_shard(shard, columns=["text"]).column("text").take(pa.array(rows[mine][order])).to_pylist()
        for k, text in zip(mine[order].tolist(), column):
            texts[k] = speakable_cut(text, max_words)[0] if max_words else " ".join((text or "").split())
    index = {c: k for k, c in enumerate(plan.clusters.tolist())}
    picked = [index[c] for c in clusters[chosen].tolist()]
    p_web, p_target, m = plan.p_web[picked], plan.p_target[picked], plan.m[picked]
    return pa.table(
        {
            "id": pa.array([ids[k] for k in chosen.tolist()], pa.string()),
            "text": pa.array([texts[k] for k in chosen.tolist()], pa.string()),
            "cluster": pa.array(clusters[chosen], pa.int32()),
            "words": pa.array(words[chosen].astype(np.int32), pa.int32()),
            "cost": pa.array(costs[chosen], pa.float64()),
            "draw": pa.array(np.arange(len(chosen)), pa.int64()),
            "p_web": pa.array(p_web, pa.float64()),
            "m": pa.array(m, pa.float64(), mask=np.isnan(m)),
            "p_target": pa.array(p_target, pa.float64()),
            "weight": pa.array(p_web / p_target, pa.float64()),
        },
        schema=SELECTION_SCHEMA,
    )


def previous_selection(store: ArtifactStore, current: ArtifactRef) -> ArtifactRef | None:
    """The newest committed selection made before this one (the version drift is measured from)."""
    mine = store.manifest(current.name, current.fingerprint)
    older = [m for m in store.versions(SELECTION) if m.fingerprint != current.fingerprint and m.created_at < mine.created_at]
    return older[0].ref if older else None


def selection_report(outputs: SelectionOutputs, store_config: StoreConfig, previous: ArtifactRef | None = None) -> ArtifactRef:
    """The `selection_report` artifact (markdown + PNG), published in the Prefect UI; `previous`
    defaults to the newest selection version committed before this one."""
    store = ArtifactStore.open(store_config)
    previous = previous or previous_selection(store, outputs.selection)
    parents = [outputs.selection, outputs.cluster_stats] + ([outputs.misalignment] if outputs.misalignment else []) + ([previous] if previous else [])
    spec = StageSpec(name=REPORT, params={}, code_version=SELECTION_REPORT_CODE_VERSION, parents=parents)
    existing = store.find(spec)
    if existing is None:
        manifest = store.get(outputs.selection).manifest
        plan = plan_from_stats(manifest.stats)
        counts = {int(c): n for c, n in manifest.stats["realised"].items()}
        previous_counts = {int(c): n for c, n in store.get(previous).manifest.stats["realised"].items()} if previous else None
        summary = selection_summary(plan, counts, previous_counts)
        intervals = {}
        if outputs.misalignment:
            scores = read_misalignment(store, outputs.misalignment)
            intervals = scores.intervals
            if plan.gamma == 0:  # not used to draw (nor a parent of the selection), still worth seeing next to P_web
                plan.m = np.asarray([scores.m.get(int(c), np.nan) for c in plan.clusters])
        terms_table = store.get(outputs.cluster_stats).to_table(columns=["cluster", "top_terms"])
        terms = dict(zip(terms_table.column("cluster").to_pylist(), terms_table.column("top_terms").to_pylist()))
        markdown = selection_markdown(plan, summary, intervals, terms)
        png = selection_figure(plan, summary, intervals)
        table = pa.table({"markdown": [markdown], "png": pa.array([png], pa.binary())})
        figures = {k: summary[k] for k in ("rows", "effective_sample_size", "entropy_nats", "effective_clusters", "drift_tv")}
        existing = write_table_artifact(store, spec, table, {**figures, "previous": str(previous) if previous else None})
    publish_selection_report(store, existing)
    return existing


def plan_from_stats(stats: dict):
    """The TargetPlan recorded in a selection's manifest (so the report never re-draws)."""
    from salad_core.selection.sampler import TargetPlan

    rows = sorted(((int(c), v) for c, v in stats["clusters"].items()))
    return TargetPlan(
        clusters=np.asarray([c for c, _ in rows], dtype=np.int64),
        sizes=np.asarray([v["size"] for _, v in rows], dtype=np.int64),
        p_web=np.asarray([v["p_web"] for _, v in rows]),
        m=np.asarray([np.nan if v["m"] is None else v["m"] for _, v in rows]),
        p_target=np.asarray([v["p_target"] for _, v in rows]),
        status=[v["status"] for _, v in rows],
        gamma=float(stats["gamma"]),
    )


def publish_selection_report(store: ArtifactStore, report: ArtifactRef) -> None:
    """The report and its figure in the Prefect UI (a no-op outside a Prefect run)."""
    if not in_prefect_run():
        return
    from prefect.artifacts import create_markdown_artifact

    row = store.get(report).to_table().to_pylist()[0]
    image = base64.b64encode(row["png"]).decode()
    create_markdown_artifact(
        f"## Selection ({report})\n\n![selection](data:image/png;base64,{image})\n\n{row['markdown']}",
        key="salad-selection-overview",  # not prefect_key(REPORT): that key holds the manifest summaries
        description="M(c) with intervals, P_web vs P_target, expected vs realised, ESS, entropy, drift",
    )


class RegenerationOutputs(BaseModel):
    selection: ArtifactRef = Field(description="What to synthesise: the draw itself, or the baseline with the redone clusters' rows replaced.")
    baseline: ArtifactRef | None = None
    redo: list[int] = Field(default_factory=list, description="Clusters whose rows come from this run's draw.")


def cluster_m(manifest) -> dict[int, float]:
    """M(c) per cluster as a selection recorded it (the scoring it was drawn with)."""
    return {int(c): v["m"] for c, v in (manifest.stats.get("clusters") or {}).items() if v.get("m") is not None}


def baseline_selection(store: ArtifactStore, draw: ArtifactRef, explicit: str | None) -> ArtifactRef:
    """The selection whose rows the unchanged clusters keep: `explicit`, else the newest selection
    made from another draw (not this draw, nor a regeneration built on it: a rerun finds the same one)."""
    if explicit:
        name, fingerprint = store.resolve(explicit)
        if name != SELECTION:
            raise ValueError(f"regenerate.baseline = {explicit!r} is a {name!r} artifact, not a selection")
        return store.manifest(name, fingerprint).ref
    for manifest in store.versions(SELECTION):
        made_from = {str(p) for p in manifest.parents}
        if manifest.fingerprint != draw.fingerprint and f"{draw.name}@{draw.fingerprint}" not in made_from:
            return manifest.ref
    raise ValueError(
        f"regenerate: no earlier selection in the store to keep rows from (the only one is this run's draw {draw}); "
        "run once without `regenerate`, or name one with regenerate.baseline"
    )


@task(name="regenerate-selection")
def regenerate_selection(draw: ArtifactRef, config: RegenerationConfig, store_config: StoreConfig) -> RegenerationOutputs:
    """Selective regeneration: the baseline selection with the redone clusters' rows taken from
    `draw` (those named, and with `delta` those whose M(c) moved since the baseline's scoring).
    Synthesis and tokenization of the result copy every shard of the unchanged clusters from the
    baseline's speech (tasks/shard_reuse.py) and pay only for the redone ones. Without a rule: `draw`."""
    from salad_core.selection.regenerate import clusters_to_redo

    if not config.enabled:
        return RegenerationOutputs(selection=draw)
    store = ArtifactStore.open(store_config)
    log = stage_logger()
    baseline = baseline_selection(store, draw, config.baseline)
    drawn_with, kept_with = store.manifest(draw.name, draw.fingerprint), store.manifest(baseline.name, baseline.fingerprint)
    current, before = cluster_m(drawn_with), cluster_m(kept_with)
    known = set(current) | {int(c) for c in drawn_with.stats.get("clusters") or {}}
    unknown = sorted(set(config.clusters) - known)
    if unknown:
        raise ValueError(f"regenerate.clusters {unknown} are not clusters of the selection {draw}")
    redo = sorted(set(config.clusters) | set(clusters_to_redo(current, before, config.delta) if config.delta is not None else ()))
    if not redo:
        log.info("regenerate: no cluster moved by more than %s since %s; its selection (and speech) is used as is", config.delta, baseline)
        return RegenerationOutputs(selection=baseline, baseline=baseline, redo=[])
    spec = StageSpec(
        name=SELECTION,
        params={"regenerate": {**config.model_dump(mode="json", exclude={"baseline"}), "redo": redo}},
        code_version=SELECT_CODE_VERSION,
        parents=[baseline, draw],
    )
    if existing := store.find(spec):
        publish_artifact(store, existing, reused=True)
        return RegenerationOutputs(selection=existing, baseline=baseline, redo=redo)
    wanted = pa.array(redo, pa.int32())
    kept = store.get(baseline).to_table()
    kept = kept.filter(pc.invert(pc.is_in(kept.column("cluster"), wanted)))
    new = store.get(draw).to_table()
    new = new.filter(pc.is_in(new.column("cluster"), wanted))
    table = pa.concat_tables([kept, new.cast(kept.schema)])
    table = table.set_column(table.schema.get_field_index("draw"), "draw", pa.array(range(table.num_rows), pa.int64()))
    moved = {str(c): [before.get(c), current.get(c)] for c in redo}
    summary = {
        **{k: drawn_with.stats[k] for k in ("gamma", "words_per_second", "words_per_second_source", "clusters") if k in drawn_with.stats},
        "budget": {**drawn_with.stats.get("budget", {}), "spent": _spent(table, drawn_with.stats)},
        "rows": table.num_rows,
        "regenerated": {
            "baseline": str(baseline),
            "draw": str(draw),
            "redo": redo,
            "m_before_after": moved,
            "rows_kept": kept.num_rows,
            "rows_redrawn": new.num_rows,
        },
        "realised": {str(c): n for c, n in sorted(Counter(table.column("cluster").to_pylist()).items())},
    }
    log.info("regenerate: clusters %s take %d rows of %s; %d rows of %s kept", redo, new.num_rows, draw, kept.num_rows, baseline)
    return RegenerationOutputs(selection=write_table_artifact(store, spec, table, summary), baseline=baseline, redo=redo)


def _spent(table: pa.Table, stats: dict) -> float:
    """The budget a table of selected rows spends, in the budget's unit (hours from seconds)."""
    total = float(pc.sum(table.column("cost")).as_py() or 0.0)
    return total / 3600.0 if stats.get("budget", {}).get("kind") == "hours" else total


def preflight_cost(workload, throughputs=None, devices: dict[str, int] | None = None, max_device_hours: float | None = None, override: bool = False):
    """Estimate, log and publish the cost before synthesis and training start; refuse beyond the
    budget unless `override` (salad_core.selection.cost.check_budget raises CostOverBudget)."""
    from salad_core.selection.cost import MEASURED_CPU, check_budget, cost_markdown, estimate_cost

    estimate = estimate_cost(workload, throughputs or MEASURED_CPU, devices)
    text = cost_markdown(estimate)
    stage_logger().info("cost estimate before launch:\n%s", text)
    if in_prefect_run():
        from prefect.artifacts import create_markdown_artifact

        budget = "no budget set" if max_device_hours is None else f"budget {max_device_hours:,.1f} device-hours{' (overridden)' if override else ''}"
        create_markdown_artifact(
            f"## Cost and ETA before launch ({budget})\n\n{text}",
            key="salad-cost-estimate",
            description="audio hours, compute per stage and storage, from measured throughputs",
        )
    check_budget(estimate, max_device_hours, override)
    return estimate
