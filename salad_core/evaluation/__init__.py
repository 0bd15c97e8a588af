"""Spoken multiple-choice evaluation: benchmark loaders, few-shot scoring, the text-speech gap.

Usage:
    from salad_core.evaluation import load_benchmark, BenchmarkConfig, score_items, EvalConfig
    loaded = load_benchmark(BenchmarkConfig(name="arc_challenge", paths=["arc.jsonl"]))
    loaded.items, loaded.rejected          # McItem list, Rejected rows (quarantine)

No Prefect and no store here: `tasks/eval_items.py` and `tasks/evaluate.py` version the results.
"""

from salad_core.evaluation.config import BenchmarkConfig, EvalConfig
from salad_core.evaluation.items import McItem, Rejected
from salad_core.evaluation.loaders import LoadedBenchmark, load_benchmark

__all__ = ["BenchmarkConfig", "EvalConfig", "LoadedBenchmark", "McItem", "Rejected", "load_benchmark"]
