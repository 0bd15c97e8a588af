"""Fidelity check at tiny scale (the paper's alpha ablation in miniature): alpha = 1 vs alpha = 0.

Run:
    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/check_alpha.py                      # 3 seeds, ~10 min on 2 cores
    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/check_alpha.py --seeds 0 1 2 3 --steps 80 --store /tmp/alpha-store

Builds (once, reused from --store afterwards) real speech for the check: the bundled corpus, the
embedded BPE tokenizer and tiny teacher, espeak-ng speech of the first words of `--docs` documents
with its word timings (a `speech` artifact: id, text, audio, word_timings), and Mimi codes of it
(random Mimi with codebooks fitted on that speech). Then, per seed, two Stage I runs through the
`deepspeed` launcher (tasks/train.py) with identical config, data and steps except the
objective's alpha: 1 (distillation, the paper) and 0 (NLL on the transcript tokens only). Prints
forgetting F (Eq. 3) and misalignment M (Eq. 2) on the held-out speech after the last step, per
seed, and the mean and spread over seeds. The expectation from the paper: alpha = 1 ends with lower
F and lower M.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pyarrow as pa

from salad_core.corpus.ingest_config import IngestConfig
from salad_core.mimi import MimiConfig
from salad_core.objective.distill import DistillConfig
from salad_core.teacher.config import TeacherConfig
from salad_core.training.config import TrainConfig
from salad_core.tts.espeak import EspeakBackend
from salad_core.tts.flac import encode_flac
from salad_core.tts.interface import SAMPLE_RATE
from salad_core.tts.rows import SPEECH_FIELDS
from storage import ArtifactStore, StageSpec
from tasks.checkpoint_store import SourceRefs
from tasks.ingest import ingest_corpus
from tasks.sharded_stage import write_sharded_artifact
from tasks.teacher import build_teacher, build_tokenizer
from tasks.tokenize import tokenize_speech
from tasks.tokenize_config import TokenizeConfig
from tasks.train import train_stage

SPEECH_SCHEMA = pa.schema(SPEECH_FIELDS)


def speech_artifact(store: ArtifactStore, corpus, docs: int, words: int, shards: int = 4):
    """espeak-ng speech of the first `words` words of the first `docs` corpus documents."""
    spec = StageSpec(name="speech", params={"docs": docs, "words": words, "voice": "en-us", "shards": shards}, code_version="check-alpha-1", parents=[corpus])
    rows = store.get(corpus).to_table(columns=["id", "text"]).to_pylist()[:docs]
    per = -(-len(rows) // shards)
    backend = EspeakBackend(voices=["en-us"])

    def produce(committed):
        for shard in range(shards):
            if shard in committed:
                yield shard, None
                continue
            out = []
            for row in rows[shard * per : (shard + 1) * per]:
                text = " ".join(row["text"].split()[:words])
                syn = backend.synthesize(text, "en-us")
                out.append(
                    {
                        "id": row["id"],
                        "text": text,
                        "voice": "en-us",
                        "sample_rate": SAMPLE_RATE,
                        "audio": encode_flac(syn.audio, SAMPLE_RATE),
                        "duration_s": len(syn.audio) / SAMPLE_RATE,
                        "word_timings": [{"word": w, "start": s, "end": e} for w, s, e in syn.word_timings],
                    }
                )
            yield shard, pa.Table.from_pylist(out, schema=SPEECH_SCHEMA)

    return write_sharded_artifact(store, spec, produce, schema=SPEECH_SCHEMA)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=os.path.join(tempfile.gettempdir(), "salad-check-alpha"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--docs", type=int, default=80)
    parser.add_argument("--words", type=int, default=40)
    parser.add_argument("--procs", type=int, default=1)
    args = parser.parse_args()
    store = ArtifactStore.open(args.store)
    cfg = store.objects.config
    corpus = ingest_corpus.fn(IngestConfig(bundled_docs=600), cfg).corpus
    teacher_cfg = TeacherConfig(cpu_threads=1)
    tokenizer = build_tokenizer.fn(corpus, teacher_cfg, cfg)
    teacher = build_teacher.fn(corpus, tokenizer, teacher_cfg, cfg).teacher
    speech = speech_artifact(store, corpus, args.docs, args.words)
    codes = tokenize_speech.fn(speech, TokenizeConfig(mimi=MimiConfig(weights="random"), calibration_seconds=20.0), cfg).codes
    data = {"natural": SourceRefs(codes=codes, transcripts=speech), "text": SourceRefs(corpus=corpus)}
    results = {}
    for seed in args.seeds:
        for alpha in (1.0, 0.0):
            run_cfg = TrainConfig.preset("tiny").model_copy(
                update={
                    "steps": args.steps,
                    "warmup_steps": max(1, args.steps // 10),
                    "seed": seed,
                    "num_procs": args.procs,
                    "distill": DistillConfig(alpha=alpha),
                    "save_every": args.steps,
                    "eval_every": max(1, args.steps // 4),
                    "held_out_fraction": 0.15,
                    "held_out_samples": 12,
                }
            )
            out = train_stage.fn(run_cfg, data, teacher, cfg)
            last = store.get(out.metrics).manifest.stats["last_eval"]
            results[(seed, alpha)] = (last["F"], last["M"])
            print(f"seed {seed} alpha {alpha:.0f}: F {last['F']:.5f}  M {last['M']:.5f}  ({'reused' if out.reused else 'trained'}, {out.final})", flush=True)
    print(f"\n{args.steps} steps per run, held-out speech of {codes}; per-position means of KL (nats)")
    print(f"{'seed':>6} {'F a=1':>10} {'F a=0':>10} {'M a=1':>10} {'M a=0':>10}")
    for seed in args.seeds:
        (f1, m1), (f0, m0) = results[(seed, 1.0)], results[(seed, 0.0)]
        print(f"{seed:>6} {f1:10.5f} {f0:10.5f} {m1:10.5f} {m0:10.5f}")
    for name, idx in (("F", 0), ("M", 1)):
        for alpha in (1.0, 0.0):
            values = [results[(s, alpha)][idx] for s in args.seeds]
            spread = statistics.stdev(values) if len(values) > 1 else 0.0
            print(f"{name} alpha={alpha:.0f}: mean {statistics.mean(values):.5f}  sd {spread:.5f}")
        wins = sum(results[(s, 1.0)][idx] < results[(s, 0.0)][idx] for s in args.seeds)
        print(f"{name}: alpha=1 lower in {wins}/{len(args.seeds)} seeds")


if __name__ == "__main__":
    main()
