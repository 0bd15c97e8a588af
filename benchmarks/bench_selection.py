"""How long active selection takes at scale: speakable cuts, pooling and the gamma-weighted draw.

Run it (CPU, ~1 minute on 2 cores):
    .venv/bin/python benchmarks/bench_selection.py                        # 1M documents, K = 128, 50k texts drawn
    .venv/bin/python benchmarks/bench_selection.py --docs 200000 --draws 20000

Three figures, each timed on its own (best of --repeats, 1 thread):
  (a) speakable cuts of real-looking pages (the bundled corpus's documents, ~1-3 kB each) with
      max_words = 400 (the selection default) and 60 (the probe default): documents per second;
  (b) build_pools over N synthetic documents (ids, clusters, costs): the seeded hash of id + sort;
  (c) draw_selection of a rows budget from P_target with gamma = 5 over K clusters (no exhaustion).
The last line extrapolates (a) + (b) + (c) to FineWeb-Edu 10BT (9,672,101 documents), which the
select task reads once (the corpus pass that counts words dominates; the draw is negligible).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from salad_core.corpus.bundled import generate_bundled_corpus
from salad_core.selection.sampler import build_pools, draw_selection, target_plan
from salad_core.selection.speakable import speakable_cut

FINEWEB_10BT_DOCS = 9_672_101


def best_of(repeats: int, fn) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--k", type=int, default=128)
    parser.add_argument("--draws", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)

    texts = [t for t in generate_bundled_corpus(2000, seed=args.seed, bad_fraction=0.0).column("text").to_pylist() if t]
    mean_chars = float(np.mean([len(t) for t in texts]))
    cut_rates = {}
    for words in (400, 60):
        seconds = best_of(args.repeats, lambda: [speakable_cut(t, words) for t in texts])
        cut_rates[words] = len(texts) / seconds
        print(f"(a) speakable_cut, max_words={words}: {cut_rates[words]:,.0f} docs/s ({len(texts)} docs, mean {mean_chars:,.0f} chars)")

    rng = np.random.default_rng(args.seed)
    ids = [f"<urn:uuid:{i:032x}>" for i in range(args.docs)]
    sizes = rng.dirichlet(np.full(args.k, 2.0)) * args.docs
    clusters = np.repeat(np.arange(args.k), np.diff(np.r_[0, np.round(np.cumsum(sizes)).astype(int)]))[: args.docs]
    costs = rng.integers(20, 400, size=args.docs) / 2.5
    pools_s = best_of(args.repeats, lambda: build_pools(ids, clusters, costs, args.seed))
    print(f"(b) build_pools: {args.docs:,} docs in {pools_s:.2f} s ({args.docs / pools_s:,.0f} docs/s)")

    counts = np.bincount(clusters, minlength=args.k)
    plan = target_plan({c: int(n) for c, n in enumerate(counts)}, {c: float(m) for c, m in enumerate(rng.uniform(0.2, 1.0, args.k))}, gamma=5.0)
    row_pools = build_pools(ids, clusters, np.ones(args.docs), args.seed)  # a rows budget: one draw per text
    draw_s = best_of(args.repeats, lambda: draw_selection(plan, row_pools, budget=args.draws, seed=args.seed))
    drawn = draw_selection(plan, row_pools, budget=args.draws, seed=args.seed)
    print(
        f"(c) draw_selection: {len(drawn.picks):,} texts from K={args.k} in {draw_s:.3f} s ({len(drawn.picks) / draw_s:,.0f} draws/s); "
        f"{len(drawn.exhausted)} clusters exhausted"
    )

    total = FINEWEB_10BT_DOCS / cut_rates[400] + FINEWEB_10BT_DOCS / (args.docs / pools_s) + draw_s
    print(
        f"extrapolated to FineWeb-Edu 10BT ({FINEWEB_10BT_DOCS:,} docs, 1 core): cuts {FINEWEB_10BT_DOCS / cut_rates[400] / 60:,.1f} min, "
        f"pools {FINEWEB_10BT_DOCS / (args.docs / pools_s) / 60:,.1f} min, total ~{total / 60:,.0f} min (plus reading the Parquet text)"
    )


if __name__ == "__main__":
    main()
