"""Fidelity check at tiny scale (the paper's Table 4 in miniature): gamma = 5 vs gamma = 0 after the SAME Stage I.

Run (Ray is started for synthesis, so inside a loopback-only network namespace):
    unshare -n bash -c 'ip link set lo up && RAY_AUTH_MODE=disabled HF_HUB_OFFLINE=1 \\
        .venv/bin/python benchmarks/check_gamma.py --seeds 0 1 2'
    ... benchmarks/check_gamma.py --seeds 0 1 2 3 --stage2-steps 60 --store /tmp/gamma-store --json /tmp/gamma.json
Cost on the 2 shared cores here: ~25 min for the data stages, Stage I and the probe the first time
(nothing the second time: every step is reused from --store by fingerprint; the fingerprints include
the code, so an edit to a stage's modules recomputes from there), then ~3 min per seed and gamma.
More seeds later reuse the earlier ones: `--seeds 0 1 2 3 4` after `--seeds 0 1 2` runs only 3 and 4.

What it runs, as one Prefect flow on the `tiny` preset (flows.config.load_config("tiny", overrides)),
every step reused from --store when its fingerprint is committed (a rerun recomputes nothing):
  once:  ingest → embed → cluster, tokenizer → teacher, Stage I speech → Stage I (tiny preset:
         60 steps, pre-decay checkpoint at step 48), probe (4 texts per cluster, 14 clusters) →
         espeak-ng → gate → Mimi, and M(c) on the probe with the Stage I pre-decay checkpoint
         (M1, what selection uses) and, as a reference, with the Stage I final checkpoint (the same
         LR decay to 0 with no Stage II data at all);
  per seed s and gamma in (5, 0), everything else identical (selection.seed = stage2.seed = s,
         budget = the tiny preset's 0.1 h of estimated speech): gamma-weighted selection →
         espeak-ng → gate → Mimi → Stage II from the pre-decay checkpoint (--stage2-steps, default
         40 optimizer steps, LR decaying linearly to 0; natural / selected synthetic / text thirds)
         → M(c) on the same probe with the Stage II final checkpoint (M2). No evaluation.

"Clusters Stage I did not cover" = the clusters whose probe M1(c) is in the top half of the
scored clusters (the floor(n/2) highest; 7 of 14 here). Fixed before any Stage II run, from
Stage I only, so it is the same set for both gammas and every seed.

Claims checked (the paper's mechanism, Stage II steps 4-6):
  (a) gamma = 5 spends more of the selection budget on those clusters than gamma = 0
      (share of the budget's estimated seconds of speech; also the share of the speech that passed
      the gate and was tokenized, i.e. what Stage II actually trained on);
  (b) after Stage II their M(c) falls more with gamma = 5: ΔM(c) = M1(c) − M2(c), averaged over
      the top-half clusters (and, for contrast, over the other half).
Reported per seed, then mean ± sample sd over seeds, with how many seeds go each way; nothing
is tuned: the sizes are the tiny preset's except --stage2-steps (printed with the results).
Per-cluster numbers (topic = the majority ground-truth topic of the cluster's bundled documents):
M1, share of the budget per gamma, M2 and ΔM per gamma (means over seeds).
The markdown tables are printed and everything is written to --json.

Scale caveat: a 1.9M-parameter teacher, a 3.3M-parameter adapter, random-weight Mimi, espeak-ng
speech, 4 probe clips per cluster (M(c) is noisy: its bootstrap intervals are in the JSON) and
a few hundred seconds of selected speech. The figures say which way the mechanism goes at this
scale, not what SALAD-3B does.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prefect import flow  # noqa: E402

from flows.config import load_config  # noqa: E402
from flows.salad_flow import stage1_and_probe  # noqa: E402
from flows.spoken import speak  # noqa: E402
from salad_core.corpus.bundled import topic_of_url  # noqa: E402
from storage import ArtifactRef, ArtifactStore  # noqa: E402
from tasks.misalignment import read_misalignment, score_misalignment  # noqa: E402
from tasks.select import select_texts  # noqa: E402
from tasks.train import train_stage  # noqa: E402

GAMMAS = (5.0, 0.0)


@flow(name="check-gamma", log_prints=True)
def check_gamma_flow(store_uri: str, seeds: list[int], stage2_steps: int, extra: list[str] | None = None) -> dict:
    """Stage I once, then per seed and gamma: selection → speech → Stage II → M(c); returns the refs (as strings)."""
    base = [f"store.uri={store_uri}", f"stage2.steps={stage2_steps}", *(extra or [])]
    config = load_config("tiny", base)
    store = config.store
    before = stage1_and_probe(config)  # the same steps as the SALAD flow, up to the selection
    data, stage1, probe_texts, probe, natural, text = before.data, before.stage1, before.probe_texts, before.probe, before.natural, before.text
    corpus, cluster, teacher, mimi, scored_with = data.ingest.corpus, data.cluster, data.teacher.teacher, data.mimi_weights(), before.scored_with

    def m_with(checkpoint: ArtifactRef) -> ArtifactRef:
        return score_misalignment(checkpoint, probe.codes.codes, probe.speech.speech, probe_texts, config.misalignment, store)

    out = {
        "corpus": str(corpus),
        "assignments": str(cluster.assignments),
        "stage1_pre_decay": str(scored_with),
        "stage1_final": str(stage1.final),
        "m1": str(m_with(scored_with)),
        "m1_final": str(m_with(stage1.final)),
        "probe_texts": str(probe_texts),
        "config": config.model_dump(mode="json"),
        "runs": [],
    }
    for seed in seeds:
        for gamma in GAMMAS:
            started = time.time()
            run_config = load_config("tiny", [*base, f"selection.gamma={gamma:g}", f"selection.seed={seed}", f"stage2.seed={seed}"])
            selection = select_texts(
                corpus,
                cluster.assignments,
                cluster.stats,
                out_ref(out["m1"]),
                run_config.selection,
                store,
                probe_speech=probe.speech.speech,
                gate_clusters=probe.gate.clusters,
                probe_texts=probe_texts,
            )
            selected = speak(selection.selection, "selected_speech", run_config.tts, run_config.gate, run_config.tokenize, store, mimi)
            stage2 = train_stage(run_config.stage2, {"natural": natural, "synthetic": selected.source(), "text": text}, teacher, store, parent=scored_with)
            m2 = m_with(stage2.final)
            out["runs"].append(
                {
                    "seed": seed,
                    "gamma": gamma,
                    "selection": str(selection.selection),
                    "codes": str(selected.codes.codes),
                    "stage2_final": str(stage2.final),
                    "m2": str(m2),
                    "stage2_reused": stage2.reused,
                    "wall_s": round(time.time() - started, 1),
                }
            )
            print(f"seed {seed} gamma {gamma:g}: {selection.selection} → {stage2.final} → {m2} ({out['runs'][-1]['wall_s']} s)")
    return out


def out_ref(text: str) -> ArtifactRef:
    name, _, fingerprint = text.partition("@")
    return ArtifactRef(name=name, fingerprint=fingerprint)


def cluster_topics(store: ArtifactStore, corpus: str, assignments: str, stage1_slice: list[str]) -> dict[int, str]:
    """The majority ground-truth topic of each cluster's bundled documents (with its share; "S1" when Stage I's speech slice is that topic)."""
    urls = dict(zip(*store.get(corpus).to_table(columns=["id", "url"]).to_pydict().values()))
    counts: dict[int, Counter] = {}
    for i, c in zip(*store.get(assignments).to_table(columns=["id", "cluster"]).to_pydict().values()):
        try:
            counts.setdefault(int(c), Counter())[topic_of_url(urls[i])] += 1
        except (KeyError, ValueError):
            continue
    out = {}
    for c, n in counts.items():
        topic, k = n.most_common(1)[0]
        in_slice = any(f"/{topic}/" in u for u in stage1_slice)
        out[c] = f"{topic} ({k / sum(n.values()):.0%}){', S1' if in_slice else ''}"
    return out


def shares(store: ArtifactStore, selection: str, codes: str, top: set[int]) -> dict:
    """Budget (estimated seconds) and trained audio (gated + tokenized seconds) per cluster, and the top-half shares."""
    sel = store.get(selection).to_table(columns=["id", "cluster", "cost"]).to_pydict()
    cluster_of = dict(zip(sel["id"], sel["cluster"]))
    cost: Counter = Counter()
    for c, x in zip(sel["cluster"], sel["cost"]):
        cost[int(c)] += x
    audio: Counter = Counter()
    for i, d in zip(*store.get(codes).to_table(columns=["id", "duration_s"]).to_pydict().values()):
        audio[int(cluster_of[i])] += d
    total_cost, total_audio = sum(cost.values()), sum(audio.values())
    return {
        "rows": len(sel["id"]),
        "budget_s": total_cost,
        "trained_audio_s": total_audio,
        "cost_by_cluster": {c: cost[c] for c in sorted(cost)},
        "audio_by_cluster": {c: audio[c] for c in sorted(audio)},
        "share_top": sum(cost[c] for c in top) / total_cost,
        "audio_share_top": sum(audio[c] for c in top) / total_audio if total_audio else float("nan"),
    }


def mean_over(values: dict[int, float], clusters: set[int]) -> float:
    return statistics.mean(values[c] for c in clusters)


def msd(xs: list[float]) -> str:
    return f"{statistics.mean(xs):.4f} ± {statistics.stdev(xs):.4f}" if len(xs) > 1 else f"{xs[0]:.4f}"


def pct(xs: list[float]) -> str:
    return f"{100 * statistics.mean(xs):.1f}% ± {100 * statistics.stdev(xs):.1f}" if len(xs) > 1 else f"{100 * xs[0]:.1f}%"


def analyse(store: ArtifactStore, refs: dict, stage2_steps: int, seeds: list[int]) -> tuple[dict, str]:
    m1s = read_misalignment(store, out_ref(refs["m1"]))
    m1, m1_final = m1s.m, read_misalignment(store, out_ref(refs["m1_final"])).m
    ranked = sorted(m1, key=lambda c: -m1[c])
    top, other = set(ranked[: len(ranked) // 2]), set(ranked[len(ranked) // 2 :])
    topics = cluster_topics(store, refs["corpus"], refs["assignments"], refs["config"]["stage1_texts"].get("url_contains") or [])
    runs = []
    for r in refs["runs"]:
        m2 = read_misalignment(store, out_ref(r["m2"])).m
        drop = {c: m1[c] - m2[c] for c in m1 if c in m2}
        s = shares(store, r["selection"], r["codes"], top)
        runs.append(
            {
                **r,
                **s,
                "m2": m2,
                "drop": drop,
                "drop_top": mean_over(drop, top),
                "drop_other": mean_over(drop, other),
                "m2_top": mean_over(m2, top),
                "m2_other": mean_over(m2, other),
            }
        )
    by = {g: [x for x in runs if x["gamma"] == g] for g in GAMMAS}
    final_drop = {c: m1[c] - m1_final[c] for c in m1 if c in m1_final}
    cfg = refs["config"]
    s2 = cfg["stage2"]
    sizes = (
        f"tiny preset; Stage I {cfg['stage1']['steps']} steps (pre-decay at step {cfg['stage1']['steps'] - round(cfg['stage1']['decay_fraction'] * cfg['stage1']['steps'])}); "
        f"probe {cfg['probe']['n_per_cluster']} texts/cluster × {len(m1)} scored clusters; "
        f"budget {cfg['selection']['budget']['amount']:g} {cfg['selection']['budget']['kind']} of estimated speech per run; "
        f"Stage II {stage2_steps} steps from the pre-decay checkpoint (LR {s2['lr_adapter']:g}/{s2['lr_llm']:g} → 0, "
        f"micro-batch {s2['micro_batch_positions']} positions, mixture natural/synthetic/text 1:1:1); seeds {seeds}"
    )

    lines = [
        f"Sizes: {sizes}.",
        "",
        f"Top half (Stage I did not cover): clusters {sorted(top, key=lambda c: -m1[c])}, mean M1 {mean_over(m1, top):.4f}; "
        f"other half mean M1 {mean_over(m1, other):.4f}.",
        "",
        "| | budget share on top-half clusters | trained-audio share on them | ΔM top half | ΔM other half | ΔM top − other |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for g in GAMMAS:
        xs = by[g]
        lines.append(
            f"| γ = {g:g} (mean ± sd, {len(xs)} seeds) | {pct([x['share_top'] for x in xs])} | {pct([x['audio_share_top'] for x in xs])} | "
            f"{msd([x['drop_top'] for x in xs])} | {msd([x['drop_other'] for x in xs])} | {msd([x['drop_top'] - x['drop_other'] for x in xs])} |"
        )
    lines.append(
        f"| Stage I final (decay, no Stage II data; reference) | – | – | {mean_over(final_drop, top):.4f} | {mean_over(final_drop, other):.4f} | "
        f"{mean_over(final_drop, top) - mean_over(final_drop, other):.4f} |"
    )
    pairs = [(a, b) for a in by[5.0] for b in by[0.0] if a["seed"] == b["seed"]]
    share_wins = sum(a["share_top"] > b["share_top"] for a, b in pairs)
    drop_wins = sum(a["drop_top"] > b["drop_top"] for a, b in pairs)
    diff_share = [a["share_top"] - b["share_top"] for a, b in pairs]
    diff_drop = [a["drop_top"] - b["drop_top"] for a, b in pairs]
    diff_other = [a["drop_other"] - b["drop_other"] for a, b in pairs]
    lines += [
        "",
        f"Paired by seed (γ=5 − γ=0): budget share on top half {pct(diff_share)} points (γ=5 higher in {share_wins}/{len(pairs)} seeds); "
        f"ΔM top half {msd(diff_drop)} (γ=5 larger in {drop_wins}/{len(pairs)} seeds); ΔM other half {msd(diff_other)}.",
        "",
        "Per seed:",
        "",
        "| seed | γ | rows | budget s | budget share top | trained audio s | audio share top | ΔM top | ΔM other | M2 top | M2 other | wall s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for x in runs:
        lines.append(
            f"| {x['seed']} | {x['gamma']:g} | {x['rows']} | {x['budget_s']:.0f} | {100 * x['share_top']:.1f}% | {x['trained_audio_s']:.0f} | "
            f"{100 * x['audio_share_top']:.1f}% | {x['drop_top']:.4f} | {x['drop_other']:.4f} | {x['m2_top']:.4f} | {x['m2_other']:.4f} | {x['wall_s']:.0f} |"
        )
    lines += [
        "",
        "Per cluster (means over seeds; ΔM = M1 − M2; share = of the budget's estimated seconds; S1 = a topic of Stage I's speech slice):",
        "",
        "| cluster | topic | half | M1 (95% CI) | share γ=5 | share γ=0 | ΔM γ=5 | ΔM γ=0 | ΔM Stage I final |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    per_cluster = {}
    for c in ranked:
        row = {
            "topic": topics.get(c, "?"),
            "half": "top" if c in top else "other",
            "m1": m1[c],
            "m1_ci": m1s.intervals.get(c),
            "drop_stage1_final": final_drop.get(c),
        }
        for g in GAMMAS:
            xs = by[g]
            row[f"share_g{g:g}"] = statistics.mean(x["cost_by_cluster"].get(c, 0.0) / x["budget_s"] for x in xs)
            row[f"drop_g{g:g}"] = statistics.mean(x["drop"][c] for x in xs)
        per_cluster[c] = row
        lo, hi = row["m1_ci"] or (None, None)
        ci = f" ({lo:.3f}–{hi:.3f})" if lo is not None and hi is not None else ""
        lines.append(
            f"| {c} | {row['topic']} | {row['half']} | {m1[c]:.4f}{ci} | {100 * row['share_g5']:.1f}% | {100 * row['share_g0']:.1f}% | "
            f"{row['drop_g5']:.4f} | {row['drop_g0']:.4f} | {row['drop_stage1_final']:.4f} |"
        )
    result = {
        "sizes": sizes,
        "refs": {k: v for k, v in refs.items() if k != "config"},
        "top_half": sorted(top),
        "other_half": sorted(other),
        "m1": m1,
        "m1_stage1_final": m1_final,
        "per_cluster": per_cluster,
        "runs": [{k: v for k, v in x.items()} for x in runs],
        "paired": {
            "share_top_diff": diff_share,
            "drop_top_diff": diff_drop,
            "drop_other_diff": diff_other,
            "gamma5_more_share_seeds": share_wins,
            "gamma5_larger_drop_seeds": drop_wins,
            "seeds": len(pairs),
        },
        "config": refs["config"],
    }
    return result, "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default="/tmp/salad-check-gamma")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--stage2-steps", type=int, default=40)
    parser.add_argument("--set", dest="extra", action="append", default=[], help="extra config override (dotted.key=value), applied to every run")
    parser.add_argument("--json", default="/tmp/salad-check-gamma.json")
    args = parser.parse_args()
    started = time.time()
    refs = check_gamma_flow(args.store, args.seeds, args.stage2_steps, args.extra)
    result, text = analyse(ArtifactStore.open(args.store), refs, args.stage2_steps, args.seeds)
    result["wall_s"] = round(time.time() - started, 1)
    Path(args.json).write_text(json.dumps(result, indent=1, default=str))
    print("\n" + text + f"\n\nTotal wall time {result['wall_s']:.0f} s (reused steps included); JSON: {args.json}")


if __name__ == "__main__":
    main()
