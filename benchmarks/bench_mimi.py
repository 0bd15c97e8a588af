"""Mimi tokenization throughput: the task's path vs a raw per-file ``mimi.encode`` loop.

Run it (CPU, one thread by default, the real clips of ../shared/data/real_speech):
    .venv/bin/python benchmarks/bench_mimi.py
    .venv/bin/python benchmarks/bench_mimi.py --threads 2 --max-seconds 10 --repeats 3

Both paths start from the same stored FLAC bytes (24 kHz, as in an `utterances` shard) and use
the same model object (random weights with fitted codebooks, or the real checkpoint when cached):
  * task:  decode_audio(FLAC) for each row, then MimiTokenizer.encode_batch (what tasks/tokenize.py runs);
  * raw:   per file, soundfile decode, then ``model.encode(tensor)`` under inference_mode.
Figure of merit: audio seconds per wall second, best of --repeats; target task/raw >= 1.0x.
Model loading is outside the timings. Both paths must give identical codes (checked).
"""

from __future__ import annotations

import argparse
import io
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402
import torch  # noqa: E402

from salad_core.audio import decode_audio, encode_flac  # noqa: E402
from salad_core.mimi import MimiConfig, MimiTokenizer  # noqa: E402
from salad_core.speech_sources import SpeechSourceConfig, read_items  # noqa: E402

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "real_speech"


def flac_clips(folder: Path, max_seconds: float) -> list[bytes]:
    config = SpeechSourceConfig(folder=str(folder), allow_empty_text=True)
    cap = int(max_seconds * 24_000)
    return [encode_flac(item.load()[:cap], 24_000) for item in read_items(config) if not item.problem]


def task_path(tok: MimiTokenizer, blobs: list[bytes]) -> list[np.ndarray]:
    return tok.encode_batch([decode_audio(b)[0] for b in blobs])


def raw_path(tok: MimiTokenizer, blobs: list[bytes]) -> list[np.ndarray]:
    out = []
    with torch.inference_mode():
        for blob in blobs:
            audio, _ = sf.read(io.BytesIO(blob), dtype="float32")
            codes = tok.model.encode(torch.from_numpy(audio)[None, None])
            out.append(codes[0].T.to(torch.int16).numpy())
    return out


def best_times(paths: dict, repeats: int) -> dict[str, tuple[float, list[np.ndarray]]]:
    """Best wall time per path; rounds alternate between the paths so load from other processes hits both alike."""
    best = {name: (float("inf"), None) for name in paths}
    for _ in range(repeats):
        for name, fn in paths.items():
            started = time.perf_counter()
            result = fn()
            best[name] = min(best[name], (time.perf_counter() - started, result), key=lambda x: x[0])
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folder", type=Path, default=DATA)
    parser.add_argument("--max-seconds", type=float, default=6.0, help="crop each clip (speed)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    blobs = flac_clips(args.folder, args.max_seconds)
    seconds = sum(len(decode_audio(b)[0]) for b in blobs) / 24_000
    calibration = [decode_audio(b)[0] for b in blobs[:2]]
    tok = MimiTokenizer.load(MimiConfig(), calibration_audio=calibration)
    task_path(tok, blobs[:1]), raw_path(tok, blobs[:1])  # warm-up
    timed = best_times({"raw": lambda: raw_path(tok, blobs), "task": lambda: task_path(tok, blobs)}, args.repeats)
    (t_raw, codes_raw), (t_task, codes_task) = timed["raw"], timed["task"]
    same = all(np.array_equal(a, b) for a, b in zip(codes_task, codes_raw))
    weights = "random (fitted)" if tok.model_info()["random_weights"] else "real"
    print(f"{len(blobs)} clips, {seconds:.1f} s of audio, {args.threads} thread(s), weights {weights}, best of {args.repeats}")
    print(f"{'path':<34}{'wall s':>8}{'audio-s/s':>11}{'vs raw':>8}")
    for name, t in (("raw per-file mimi.encode", t_raw), ("task: decode FLAC + encode_batch", t_task)):
        print(f"{name:<34}{t:>8.2f}{seconds / t:>11.2f}{t_raw / t:>7.2f}x")
    print(f"identical codes: {same}")


if __name__ == "__main__":
    main()
