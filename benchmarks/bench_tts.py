"""Synthesis throughput: one process calling the backend directly vs the Ray actor pool.

Run it (espeak-ng, the same texts for every path, best of --repeats):
    .venv/bin/python benchmarks/bench_tts.py                    # 40 bundled texts, 5 rounds
    .venv/bin/python benchmarks/bench_tts.py --texts 80 --actors 1 2 4
    .venv/bin/python benchmarks/bench_tts.py --kokoro-random --texts 8 --max-chars 200   # a torch model instead of espeak-ng
In a loopback-only network namespace (as root; Ray then stays on 127.0.0.1):
    unshare -n bash -c 'ip link set lo up && RAY_AUTH_MODE=disabled .venv/bin/python benchmarks/bench_tts.py'

What is timed is the work the stage does per row: check the text, synthesise, FLAC-encode.
Model loading and Ray start-up are outside the timings (both are paid once per run). Two
figures matter: the 2-actor pool against the direct path (scaling; target >= 1.7x on 2 cores)
and the 1-actor pool against the direct path (the pool's own overhead; target <= 10%).
Every path must produce byte-identical audio, which the benchmark checks (for Kokoro, equal
lengths: torch's float sums depend on the thread count, 1 per actor vs all cores in one process). Actors run at niceness 0
like the direct path (Ray's own default, 15, makes them lose to any other busy process).
"""

from __future__ import annotations

import argparse
import logging
import os
import time

os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from salad_core.corpus.bundled import INVALID_TOPIC, generate_bundled_corpus, topic_of_url  # noqa: E402
from salad_core.tts import TTSConfig  # noqa: E402
from salad_core.tts.rows import RowSynthesizer  # noqa: E402
from tasks.ray_pool import OrderedActorStream, RayPoolConfig, start_actors  # noqa: E402


def torch_threads() -> str:
    import sys

    return str(sys.modules["torch"].get_num_threads()) if "torch" in sys.modules else "-"


def bundled_rows(n: int, max_chars: int | None = None) -> list[dict]:
    rows = [
        {"id": r["id"], "text": r["text"][:max_chars].rsplit(" ", 1)[0] if max_chars else r["text"]}
        for r in generate_bundled_corpus(2 * n).to_pylist()
        if topic_of_url(r["url"]) != INVALID_TOPIC and r["text"].strip()
    ]
    return rows[:n]


class TimedRowSynthesizer(RowSynthesizer):
    """The stage's row worker, also reporting how long it was busy (to separate pool cost from load)."""

    def timed_run(self, rows: list[dict]) -> tuple[list[dict], float]:
        started = time.perf_counter()
        out = self.run(rows)
        return out, time.perf_counter() - started


def run_direct(synth: RowSynthesizer, rows: list[dict]) -> tuple[list[dict], float]:
    started = time.perf_counter()
    out = synth.run(rows)
    return out, time.perf_counter() - started


def run_pool(stream: OrderedActorStream, rows: list[dict], rows_per_call: int) -> tuple[list[dict], float]:
    batches = [rows[i : i + rows_per_call] for i in range(0, len(rows), rows_per_call)]
    out: list[dict] = []
    busy = 0.0
    for _, result in stream.map(lambda actor, batch: actor.timed_run.remote(batch), batches):
        if isinstance(result, Exception):
            raise RuntimeError(f"a pool call failed: {result}")
        out.extend(result[0])
        busy += result[1]
    return out, busy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=40, help="Bundled texts to speak (~50 s of speech each).")
    parser.add_argument("--repeats", type=int, default=5, help="Rounds; paths alternate within a round, the fastest run counts.")
    parser.add_argument("--actors", type=int, nargs="+", default=[1, 2], help="Pool sizes to measure.")
    parser.add_argument("--cpus-per-actor", type=float, default=0.5)
    parser.add_argument("--rows-per-call", type=int, default=2)
    parser.add_argument("--max-chars", type=int, default=None, help="Cut each text to about this many characters.")
    parser.add_argument(
        "--kokoro-random",
        action="store_true",
        help="Kokoro-82M's architecture with seeded random weights (timing only: the output is noise) instead of espeak-ng.",
    )
    parser.add_argument(
        "--worker-niceness",
        type=int,
        default=0,
        help="Actor niceness; 0 = the same priority as the direct path (Ray's default is 15).",
    )
    args = parser.parse_args()

    import ray

    rows = bundled_rows(args.texts, args.max_chars)
    config = TTSConfig(backend="kokoro", random_weights=True, voices=["af_heart"]) if args.kokoro_random else TTSConfig()
    direct = TimedRowSynthesizer(config)
    paths = {"direct (1 process)": lambda: run_direct(direct, rows)}
    load_before = os.getloadavg()[0]
    ray.init(address="local", num_cpus=os.cpu_count(), include_dashboard=False, logging_level=logging.WARNING)
    try:
        for n in args.actors:
            pool = RayPoolConfig(
                n_actors=n,
                num_cpus_per_actor=args.cpus_per_actor,
                rows_per_call=args.rows_per_call,
                worker_niceness=args.worker_niceness,
            )
            stream = OrderedActorStream(start_actors(TimedRowSynthesizer, pool, config, 1, 200), pool.max_in_flight_per_actor)
            paths[f"Ray pool, {n} actor{'s' if n > 1 else ''}"] = lambda s=stream: run_pool(s, rows, args.rows_per_call)
        for run in paths.values():  # warm-up: actors built, espeak helpers started, page cache
            run()
        walls: dict[str, list[float]] = {name: [] for name in paths}
        busy: dict[str, list[float]] = {name: [] for name in paths}
        reference = reference_lengths = None
        for round_ in range(args.repeats):
            names = list(paths)
            names = names[round_ % len(names) :] + names[: round_ % len(names)]  # rotate: load drifts over time
            for name in names:
                started = time.perf_counter()
                out, busy_s = paths[name]()
                walls[name].append(time.perf_counter() - started)
                busy[name].append(busy_s)
                audio = [r["audio"] for r in out]
                reference = reference or audio
                if audio != reference and not args.kokoro_random:
                    raise SystemExit(f"{name} produced different audio than the first path")
                if args.kokoro_random:  # torch sums in another order with other thread counts: same lengths only
                    lengths = [r["duration_s"] for r in out]
                    reference_lengths = reference_lengths or lengths
                    if lengths != reference_lengths:
                        raise SystemExit(f"{name} produced audio of other lengths than the first path")
    finally:
        ray.shutdown()

    audio_s = sum(r["duration_s"] for r in out if r["ok"])
    best = {name: min(w) for name, w in walls.items()}
    base = best["direct (1 process)"]
    backend = "Kokoro-82M (random weights)" if args.kokoro_random else "espeak-ng"
    print(
        f"\n{len(rows)} texts, {audio_s:.0f} s of speech, {backend}, {os.cpu_count()} cores, torch threads {torch_threads()}, actors at niceness {args.worker_niceness}, best of {args.repeats} "
        f"(load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after: other processes share these cores)"
    )
    print(f"{'path':<22} {'best wall s':>11} {'median':>8} {'audio s / wall s':>17} {'vs direct':>10}")
    for name, wall in best.items():
        median = sorted(walls[name])[len(walls[name]) // 2]
        print(f"{name:<22} {wall:>11.2f} {median:>8.2f} {audio_s / wall:>17.0f} {base / wall:>9.2f}x")
    if "Ray pool, 1 actor" in best:
        one = "Ray pool, 1 actor"
        i = walls[one].index(best[one])
        print(f"pool overhead, 1 actor vs direct (wall): {best[one] / base - 1:+.1%} (target <= +10%)")
        print(f"pool overhead, 1 actor wall vs its busy time in the actor: {walls[one][i] / busy[one][i] - 1:+.1%}")
    if "Ray pool, 2 actors" in best:
        print(f"scaling, 2 actors vs direct: {base / best['Ray pool, 2 actors']:.2f}x (target >= 1.7x)")


if __name__ == "__main__":
    main()
