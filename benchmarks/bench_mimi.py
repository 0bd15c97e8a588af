"""Mimi tokenization throughput: the task's path vs a raw per-file ``mimi.encode`` loop.

Run it (CPU, one thread by default, the real clips of ../shared/data/real_speech):
    .venv/bin/python benchmarks/bench_mimi.py
    .venv/bin/python benchmarks/bench_mimi.py --threads 2 --max-seconds 10 --repeats 3

Both paths start from the same stored FLAC bytes (24 kHz, as in an `utterances` shard) and use
the same model object (random weights with fitted codebooks, or the real checkpoint when cached):
  * task:  decode_audio(FLAC) for each row, then MimiTokenizer.encode_batch (what tasks/tokenize.py runs,
           with the default batching for the device: padded batches encoded in streaming time chunks);
  * raw:   per file, soundfile decode, then ``model.encode(tensor)`` under inference_mode.
Figure of merit: audio seconds per wall second, best of --repeats; target task/raw >= 1.0x.
Model loading is outside the timings. Both paths must give identical codes (checked).
With --grid it also times the task path for clips per batch x chunk frames (how the defaults were
chosen; codes are compared to the raw path's and the share of equal codes is printed).
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


GRID = [(1, None), (1, 16), (1, 32), (2, 16), (2, 32), (4, 8), (4, 16), (4, None), (8, 8), (8, None)]
WHOLE = 10**9  # a chunk longer than any clip: one pass per batch


def variant(tok: MimiTokenizer, batch_items: int, chunk_frames: int | None) -> MimiTokenizer:
    config = tok.config.model_copy(update={"max_batch_items": batch_items, "chunk_frames": chunk_frames})
    return MimiTokenizer(tok.model, config, {})


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
    parser.add_argument("--grid", action="store_true", help="also time clips per batch x chunk frames")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    blobs = flac_clips(args.folder, args.max_seconds)
    seconds = sum(len(decode_audio(b)[0]) for b in blobs) / 24_000
    calibration = [decode_audio(b)[0] for b in blobs[:2]]
    tok = MimiTokenizer.load(MimiConfig(device=args.device), calibration_audio=calibration)
    task_path(tok, blobs[:1]), raw_path(tok, blobs[:1])  # warm-up
    paths = {"raw per-file mimi.encode": lambda: raw_path(tok, blobs), "task: decode FLAC + encode_batch": lambda: task_path(tok, blobs)}
    if args.grid:
        for items, chunk in GRID:
            v = variant(tok, items, chunk or WHOLE)
            paths[f"  {items} clip(s)/batch, chunk {chunk or 'whole'}"] = lambda v=v: task_path(v, blobs)
    timed = best_times(paths, args.repeats)
    t_raw, codes_raw = timed["raw per-file mimi.encode"]
    weights = "random (fitted)" if tok.model_info()["random_weights"] else "real"
    print(
        f"{len(blobs)} clips, {seconds:.1f} s of audio, {args.device}, {args.threads} thread(s), weights {weights}, "
        f"best of {args.repeats}; task default: {tok.config.batch_items} clip(s)/batch, chunk {tok.config.chunk or 'whole'}"
    )
    print(f"{'path':<40}{'wall s':>8}{'audio-s/s':>11}{'vs raw':>8}{'equal codes':>13}")
    for name, (t, codes) in timed.items():
        equal = np.mean([np.mean(a == b) for a, b in zip(codes, codes_raw)])
        print(f"{name:<40}{t:>8.2f}{seconds / t:>11.2f}{t_raw / t:>7.2f}x{equal:>12.2%}")


if __name__ == "__main__":
    main()
